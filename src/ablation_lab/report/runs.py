"""The runs of a sweep folder as the report reads them: each run's record (metrics.json), its cell
(the choices and overrides that vary across the sweep, seed aside), and its learning curves read
back from its own TensorBoard event files."""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ablation_lab.sweep.cells import status_of
from ablation_lab.utils.choices import is_arm
from ablation_lab.utils.run_files import METRICS_FILE

SCORES = ("val/acc_best", "test/acc")


@dataclass
class Run:
    folder: Path
    record: dict
    status: str

    @property
    def metrics(self) -> dict:
        return self.record.get("metrics") or {}

    def arm(self) -> dict[str, str]:
        """What identifies this run's cell: its choices and command-line overrides, seed aside."""
        keys = {k: str(v) for k, v in (self.record.get("overrides") or {}).items() if is_arm(k)}
        keys |= {k: str(v) for k, v in (self.record.get("choices") or {}).items()}
        keys.pop("seed", None)
        return keys


@dataclass
class Cell:
    """One arm of the sweep: the runs (seeds) that share its values of the varying keys."""

    values: dict[str, str]
    runs: list[Run] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items()) or "all runs"

    def scores(self, metric: str) -> list[float]:
        return [r.metrics[metric] for r in self.runs if r.metrics.get(metric) is not None]


def load_runs(sweep_dir: Path) -> list[Run]:
    """Every run folder directly below `sweep_dir` that has a metrics.json."""
    runs = []
    for path in sorted(Path(sweep_dir).glob(f"*/{METRICS_FILE}")):
        try:
            record = json.loads(path.read_text())
        except ValueError:
            record = {"status": "unreadable"}
        runs.append(Run(path.parent, record, status_of(record)))
    return runs


def varying_keys(runs: list[Run]) -> list[str]:
    """The keys whose value differs between runs (the swept axes), in a stable order."""
    arms = [r.arm() for r in runs]
    keys = sorted({k for a in arms for k in a})
    return [k for k in keys if len({a.get(k) for a in arms}) > 1]


def group_cells(runs: list[Run], keys: list[str]) -> list[Cell]:
    cells: dict[tuple, Cell] = {}
    for run in runs:
        arm = run.arm()
        values = {k: arm.get(k, "-") for k in keys}
        cells.setdefault(tuple(values.values()), Cell(values)).runs.append(run)
    return list(cells.values())


def curves(run: Run, tags=("val/acc", "train/loss")) -> dict[str, list[float]]:
    """Per-epoch values of `tags` from the run's event files (one value per epoch, in order)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logging.getLogger("tensorboard").setLevel(logging.WARNING)  # not each event file it opens
    acc = EventAccumulator(str(run.folder), size_guidance={"scalars": 0})
    acc.Reload()
    available = set(acc.Tags().get("scalars", []))
    out: dict[str, list[float]] = defaultdict(list)
    for tag in tags:
        if tag in available:
            out[tag] = [e.value for e in sorted(acc.Scalars(tag), key=lambda e: (e.step, e.wall_time))]
    return dict(out)


def disk_usage(folder: Path) -> int:
    """Bytes of every file below `folder`."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
