"""The report's Setting line names what a sweep holds fixed away from the defaults (issue: in a
`regularization=[dropout,weight_decay]` sweep neither word appeared anywhere in the report)."""

from pathlib import Path

from ablation_lab.report.runs import Run
from ablation_lab.report.sweepdata import fixed_settings


def _run(seed: int, activation: str) -> Run:
    record = {
        "status": "done",
        "choices": {
            "data": "digits",
            "model": "mlp",
            "activation": activation,
            "init": "kaiming_normal",
            "optim": "adamw",
            "regularization": "dropout+weight_decay",
            "preprocess": "standardize",
            "seed": seed,
        },
        "overrides": {
            "regularization": "[dropout,weight_decay]",
            "activation": activation,
            "regularization.dropout.p": "0.3",
            "seed": str(seed),
        },
    }
    return Run(Path(f"/sweep/{seed}_{activation}"), record, "done")


def test_fixed_choices_and_knobs_are_named_and_what_varies_is_not():
    runs = [_run(s, a) for s in (0, 1) for a in ("relu", "tanh")]
    fixed = fixed_settings(runs)
    assert "regularization=[dropout,weight_decay]" in fixed and "regularization.dropout.p=0.3" in fixed
    runs = [_run(s, a) for s in (0, 1) for a in ("relu", "tanh")]
    for run in runs:  # set by an experiment file, not the command line: the choice names it
        del run.record["overrides"]["regularization"]
    assert "regularization=dropout+weight_decay" in fixed_settings(runs)
    assert not any(f.startswith(("activation", "seed", "data=", "model=", "preprocess")) for f in fixed)
