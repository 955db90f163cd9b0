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
    """Dataset, model and budget of the sweep, from a finished run's config, and everything the
    sweep holds fixed away from the defaults (choices and knobs set on every run alike)."""
    for run in runs:
        path = run.folder / ".hydra" / "config.yaml"
        if run.status == "done" and path.is_file():
            cfg = yaml.safe_load(path.read_text())
            data, optim = cfg["data"], cfg.get("optim", {})
            lr = optim.get("optimizer", {}).get("lr")
            fixed = fixed_settings([r for r in runs if r.status == "done"])
            return (
                f"data {data['name']} ({data['preprocess']}), model {cfg['model']['name']}, "
                f"{cfg['trainer']['max_epochs']} epochs, {optim.get('name')} lr {lr}, "
                f"batch {data['batch_size']}" + (f"; fixed: {', '.join(fixed)}" if fixed else "")
            )
    return "no finished run"


def _default_choices() -> dict[str, str]:
    from ablation_lab.utils.cli import CONF_DIR

    chosen = {}
    for entry in (yaml.safe_load((CONF_DIR / "train.yaml").read_text()) or {}).get("defaults", []):
        if isinstance(entry, dict):
            for group, option in entry.items():
                if isinstance(option, list):
                    option = "+".join(sorted(o for o in option if o != "none")) or "none"
                chosen[group] = str(option)
    return chosen


def fixed_settings(runs: list[Run]) -> list[str]:
    """`key=value` of every choice (group option) and command-line override that all `runs` share
    and that differs from the config's defaults (e.g. regularization=dropout+weight_decay)."""
    if not runs:
        return []
    defaults = _default_choices()
    shared: dict[str, str] | None = None
    for run in runs:
        choices = run.record.get("choices") or {}
        pairs = {k: str(v) for k, v in choices.items() if k in defaults}  # data-side choices: as overrides
        pairs |= {k: str(v) for k, v in (run.record.get("overrides") or {}).items() if k != "seed"}
        shared = pairs if shared is None else {k: v for k, v in shared.items() if pairs.get(k) == v}
    return [f"{k}={v}" for k, v in sorted((shared or {}).items()) if defaults.get(k) != v]


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
