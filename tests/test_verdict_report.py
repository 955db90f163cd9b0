"""What a report says about a sweep's shape, from sweep folders written by hand (no training): the
control (the defaults' cell, or a named one), the headline leading with what was found, axes pooled
only on a full grid, their interaction, runs of different data never pooled, adaptive searches
ranked without verdicts, and a comparison of sweeps corrected as one family. Fast."""

import numpy as np
import pytest
from test_verdict_cases import fake_sweep, verdict

from ablation_lab.report.build import write_comparison, write_report
from ablation_lab.report.control import default_value


def runs(mean: float, seeds: int = 3, spread: float = 0.002) -> list[tuple[float, float]]:
    offsets = np.linspace(-spread, spread, seeds)
    return [(mean + o + 0.003, mean + o) for o in offsets]


def grid(effect) -> list:
    """activation × init, 3 seeds; `effect(activation, init)` is the cell's test accuracy."""
    return [
        ({"activation": a, "init": i}, runs(effect(a, i)))
        for a in ("relu", "tanh")
        for i in ("kaiming_normal", "xavier_normal")
    ]


@pytest.mark.parametrize(
    ("key", "experiment", "value"),
    [
        ("activation", "activations", "relu"),
        ("regularization", "regularizers", "none"),
        ("regularization", "bn_dropout_order", "batchnorm+dropout"),
        ("regularization.dropout.p", "dropout_rate", "0.5"),
        ("regularization.batchnorm.order", "bn_dropout_order", "bn_act_dropout"),
        ("data.preprocess", "preprocess", "standardize"),
        ("data.train_fraction", "small_data", "1.0"),
        ("+experiment/case/init_depth", "init_depth", None),
    ],
)
def test_the_default_of_each_axis_is_read_from_the_conf_tree(key, experiment, value):
    assert default_value(key, experiment) == value


def test_a_named_control_replaces_the_defaults(tmp_path):
    cells = [({"activation": a}, runs(m)) for a, m in (("relu", 0.95), ("tanh", 0.96), ("gelu", 0.96))]
    sweep = fake_sweep(tmp_path / "s", cells, n_test=0)
    write_report(sweep, control="activation=tanh")
    report = (sweep / "report.md").read_text()
    assert "Control: activation=tanh (named)" in report
    assert "Winner vs the control: activation=tanh (the control) over activation=relu" in verdict(sweep)


def test_without_the_defaults_cell_all_pairs_are_ranked_by_tukey(tmp_path):
    cells = [({"activation": a}, runs(m)) for a, m in (("tanh", 0.95), ("gelu", 0.97), ("elu", 0.951))]
    sweep = fake_sweep(tmp_path / "s", cells, n_test=0)
    write_report(sweep)
    report = (sweep / "report.md").read_text()
    assert "Control: none: the defaults' cell (activation=relu) is not in this sweep" in report
    assert "Winner between cells: activation=gelu over activation=tanh" in verdict(sweep)
    assert "| activation=elu − activation=tanh | +0.0010 |" in report and "| Tukey HSD |" in report
    assert "3 pairs of cells (Tukey HSD)" in report


def test_the_headline_leads_with_the_finding_of_an_axis(tmp_path):
    sweep = fake_sweep(
        tmp_path / "s", grid(lambda a, i: 0.95 + (0.02 if i == "xavier_normal" else 0)), n_test=0
    )
    write_report(sweep)
    first = verdict(sweep).strip().splitlines()[0]
    assert first.startswith(
        "Winner on axis init: best init=xavier_normal vs worst init=kaiming_normal, +0.0200"
    )
    report = (sweep / "report.md").read_text()
    assert "## Axis init on its own" in report and "Tie on interaction activation × init" in report


def test_two_axes_that_interact_are_said_to(tmp_path):
    effect = lambda a, i: 0.95 + (0.03 if (a == "relu") == (i == "kaiming_normal") else 0)  # noqa: E731
    sweep = fake_sweep(tmp_path / "s", grid(effect), n_test=0)
    write_report(sweep)
    assert "Winner on interaction activation × init: the axes interact" in verdict(sweep)


def test_axes_that_are_not_crossed_are_not_pooled(tmp_path):
    cases = {"kaiming_relu": ("relu", "kaiming_normal"), "xavier_tanh": ("tanh", "xavier_normal")}
    cases["lecun_selu"] = ("selu", "lecun_normal")
    cells = [
        ({"+experiment/case/init_depth": c, "activation": a, "init": i}, runs(0.9))
        for c, (a, i) in cases.items()
    ]
    cells.append(
        ({"+experiment/case/init_depth": "normal_tanh", "activation": "tanh", "init": "normal"}, runs(0.1))
    )
    sweep = fake_sweep(tmp_path / "s", cells, n_test=0)
    write_report(sweep)
    report = (sweep / "report.md").read_text()
    assert "+experiment/case/init_depth, activation are not fully crossed (4 of 12 combinations)" in report
    assert "## Axis" not in report


def test_runs_of_different_data_are_never_pooled(tmp_path):
    sweep = fake_sweep(
        tmp_path / "s", [({"activation": "relu"}, runs(0.95))], extra={"data_fingerprint": "aaaa"}
    )
    fake_sweep(tmp_path / "t", [({"activation": "relu"}, runs(0.90))], extra={"data_fingerprint": "bbbb"})
    for run in (tmp_path / "t").iterdir():
        run.rename(sweep / f"9{run.name}")
    write_report(sweep)
    report = (sweep / "report.md").read_text()
    assert "Not pooled: the runs were trained on different data" in report
    assert "| aaaa | 3 |" in report and "| bbbb | 3 |" in report


def test_an_adaptive_search_is_ranked_without_verdict(tmp_path):
    cells = [
        ({"optim.optimizer.lr": "0.01"}, [(0.97, 0.90)]),
        ({"optim.optimizer.lr": "0.001"}, [(0.96, 0.95)]),
    ]
    sweep = fake_sweep(tmp_path / "s", cells, extra={"overrides": {"hparams_search": "lr_dropout"}})
    write_report(sweep)
    text = verdict(sweep)
    assert text.strip().startswith("No verdict: an adaptive search (Optuna)") and "Winner" not in text
    report = (sweep / "report.md").read_text()
    assert "Tie" not in text and "Family: no verdicts." in report and "Ranked by val/acc_best" in report
    rows = report.split("## Cells")[1]
    assert rows.index("| 0.01 |") < rows.index("| 0.001 |")  # by validation, the search's objective


def test_a_comparison_of_sweeps_is_one_family(tmp_path):
    cells = [({"activation": a}, runs(m)) for a, m in (("relu", 0.95), ("tanh", 0.95))]
    first = fake_sweep(tmp_path / "first", cells, n_test=0)
    later = fake_sweep(tmp_path / "later", [({"activation": "relu"}, runs(0.99)), cells[1]], n_test=0)
    written = write_comparison([first, later], tmp_path / "cmp")
    across = (tmp_path / "cmp" / "report.md").read_text().split("## Across sweeps")[1].split("\n## ")[0]
    assert "Family: 4 comparisons in 3 sets" in across  # 2 × Dunnett vs relu, 2 cells across sweeps
    assert "Winner across sweeps: activation=relu (later)" in written.verdict
    assert "| activation=tanh (later) | +0.0000 |" in across
