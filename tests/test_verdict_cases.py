"""The issue's three constructed cases, written as sweep folders (metrics.json only, no training) and
read back by ablation-report's own code: a noisier validation curve, zero spread within arms, and
early stopping. Before issue 15 each was called a Winner; each is a Tie now, said in report.md,
report.html, report.csv and TensorBoard. Fast."""

import csv
import json
import sys
from pathlib import Path

import pytest

from ablation_lab.report.build import write_report

import tb_events

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from verdict_simulation import N_TEST, early_stopping, noisy_curve, zero_spread  # noqa: E402


def fake_sweep(folder: Path, cells: list, n_test: int = N_TEST, extra: dict | None = None) -> Path:
    """One run folder per (cell, seed) with the metrics.json a finished run writes."""
    i = 0
    for levels, runs in cells:
        for seed, (val, test) in enumerate(runs):
            name = ",".join(f"{k}={v}" for k, v in levels.items()).replace("/", "_")
            run = folder / f"{i:03d}_{name},seed={seed}"
            run.mkdir(parents=True)
            record = {
                "status": "done",
                "metrics": {"val/acc_best": val, "test/acc": test},
                "choices": {**levels, "seed": seed},
                "overrides": {**levels, "seed": str(seed)},
                "test/n": n_test,
                **(extra or {}),
            }
            (run / "metrics.json").write_text(json.dumps(record))
            i += 1
    return folder


def verdict(folder: Path) -> str:
    return (folder / "report.md").read_text().split("## Verdict")[1].split("\n## ")[0]


def test_a_noisier_validation_curve_wins_nothing(tmp_path):
    cells = noisy_curve()
    val = {lv["activation"]: sum(v for v, _ in runs) / len(runs) for lv, runs in cells}
    assert val["tanh"] > val["relu"] + 0.005  # the maximum of the noisier curve is higher
    sweep = fake_sweep(tmp_path / "sweep", cells)
    write_report(sweep)
    text = verdict(sweep)
    assert "Winner" not in text and "Tie with the control" in text and "activation=tanh +0.0000" in text
    assert "could detect a difference of" in text
    rows = {r["activation"]: r for r in csv.DictReader(open(sweep / "report.csv"))}
    assert rows["relu"]["verdict"] == "control" and rows["tanh"]["verdict"] == "Tie"
    assert float(rows["tanh"]["val/acc_best mean"]) > float(rows["relu"]["val/acc_best mean"])


def test_zero_spread_within_arms_is_not_certainty(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", zero_spread())
    written = write_report(sweep)
    text = verdict(sweep)
    assert "Winner" not in text and "p=0," not in text and "Tie" in text
    assert "2 seeds per arm" in text and "not 'no effect'" in text
    report = (sweep / "report.md").read_text()
    assert "± 0.0000 [0.9638, 0.9638]" not in report and "]*" in report  # the floor set the interval
    row = next(r for r in csv.DictReader(open(sweep / "report.csv")) if r["activation"] == "tanh")
    assert float(row["minus control high"]) - float(row["minus control low"]) > 0.01
    assert 0.5 < float(row["adjusted p"]) < 1 and written.verdict.count("Tie") >= 1


def test_early_stopping_is_judged_on_the_checkpoint_it_kept(tmp_path):
    cells = early_stopping()
    (_, none), (_, stopped) = cells
    assert all(s[0] <= n[0] for n, s in zip(none, stopped, strict=True))  # its max can never be higher
    sweep = fake_sweep(tmp_path / "sweep", cells)
    write_report(sweep)
    text = verdict(sweep)
    assert "Winner" not in text and "regularization=early_stopping" in text and "Tie" in text
    assert "Control: regularization=none (the config's defaults)" in (sweep / "report.md").read_text()


def test_the_verdict_is_the_same_in_html_and_tensorboard(tmp_path):
    sweep = fake_sweep(tmp_path / "sweep", zero_spread())
    written = write_report(sweep)
    page = (sweep / "report.html").read_text()
    assert "Tie with the control" in page
    texts = tb_events.load(sweep).Tensors("report/verdict/text_summary")
    assert written.verdict in texts[-1].tensor_proto.string_val[0].decode()


@pytest.mark.parametrize("n_test", [None, 359])
def test_a_real_difference_is_a_winner_with_its_size_and_probability(tmp_path, n_test):
    good = [(0.99, 0.99 + d) for d in (0.0, 0.002, -0.002, 0.001)]
    base = [(0.95, 0.95 + d) for d in (0.0, 0.002, -0.002, 0.001)]
    cells = [({"activation": "relu"}, base), ({"activation": "gelu"}, good)]
    sweep = fake_sweep(tmp_path / "sweep", cells, n_test=n_test or 0)
    write_report(sweep)
    text = verdict(sweep)
    assert "Winner vs the control: activation=gelu over activation=relu (the control), +0.0400 [" in text
    assert "P(activation=gelu > activation=relu)=1.00" in text
