"""A sweep folder read for its report, before any verdict: the finished runs, their cells and
statistics, the test-set size behind each accuracy, the control cell, and whether an adaptive search
(Optuna) chose the runs (then the report ranks and gives no verdict)."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from ablation_lab.report import analysis
from ablation_lab.report.control import choose
from ablation_lab.report.runs import Run, group_cells, load_runs, test_images, varying_keys
from ablation_lab.report.verdicts import Design


def setting(runs: list[Run]) -> str:
    """Dataset, model and budget of the sweep, from a finished run's config."""
    for run in runs:
        path = run.folder / ".hydra" / "config.yaml"
        if run.status == "done" and path.is_file():
            cfg = yaml.safe_load(path.read_text())
            data, optim = cfg["data"], cfg.get("optim", {})
            lr = optim.get("optimizer", {}).get("lr")
            return (
                f"data {data['name']} ({data['preprocess']}), model {cfg['model']['name']}, "
                f"{cfg['trainer']['max_epochs']} epochs, {optim.get('name')} lr {lr}, "
                f"batch {data['batch_size']}"
            )
    return "no finished run"


@dataclass
class SweepData:
    """One sweep folder as the report reads it, before any verdict."""

    sweep: Path
    runs: list[Run]
    done: list[Run]
    keys: list[str]
    rows: list[analysis.CellStats]
    n_test: int | None
    control: int | None
    control_why: str
    adaptive: bool

    def design(self) -> Design:
        axes = _independent(self.keys, [r.cell for r in self.rows])
        return analysis.design(self.rows, axes, self.control, self.n_test, self.adaptive)


def _independent(keys: list[str], cells) -> list[str]:
    """The keys that are axes of their own: a key whose values only rename another's (data.preprocess
    and preprocess) is dropped."""
    seen, out = set(), []
    for key in keys:
        values = [c.values.get(key) for c in cells]
        pattern = tuple(values.index(v) for v in values)
        if pattern not in seen:
            seen.add(pattern)
            out.append(key)
    return out


def _adaptive(runs: list[Run]) -> bool:
    """Whether an adaptive search (the Optuna sweeper) chose the runs."""
    for run in runs:
        if "hparams_search" in (run.record.get("overrides") or {}):
            return True
        hydra = run.folder / ".hydra" / "hydra.yaml"
        if hydra.is_file() and "optuna" in str(
            (yaml.safe_load(hydra.read_text()) or {}).get("hydra", {}).get("sweeper")
        ):
            return True
    return False


def load(sweep: Path, keys: list[str] | None = None, control: str | None = None) -> SweepData:
    runs = load_runs(sweep)
    done = [r for r in runs if r.status == "done"]
    keys = varying_keys(done) if keys is None else keys
    n_test = test_images(done)
    adaptive = _adaptive(done)
    rows = analysis.cell_table(group_cells(done, keys), n_test, by_validation=adaptive)
    scored = [r for r in rows if r.test.n]
    index, why = choose([r.cell for r in scored], keys, control)
    control_row = rows.index(scored[index]) if index is not None else None
    return SweepData(sweep, runs, done, keys, rows, n_test, control_row, why, adaptive)
