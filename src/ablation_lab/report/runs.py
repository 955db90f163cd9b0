"""The runs of a sweep folder as the report reads them: each run's record (metrics.json), its cell
(the choices and overrides that vary across the sweep, seed aside; the data's fingerprint too, so
runs trained on different data are never pooled), the number of test images behind its accuracy,
and its learning curves read back from its own TensorBoard event files."""

import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ablation_lab.data.splits import EMBEDDED_SIZES, split_sizes
from ablation_lab.sweep.cells import status_of
from ablation_lab.utils.choices import is_arm
from ablation_lab.utils.run_files import METRICS_FILE

SCORE = "test/acc"  # the tested score: test accuracy of the checkpoint validation chose
SHOWN = "val/acc_best"  # the validation maximum that chose that checkpoint: shown, never tested
SCORES = (SCORE, SHOWN)
FINGERPRINT = "data_fingerprint"


@dataclass
class Run:
    folder: Path
    record: dict
    status: str

    @property
    def metrics(self) -> dict:
        """Final metric values; a non-finite or non-numeric one (a hand-edited NaN) reads as missing."""
        raw = self.record.get("metrics") or {}
        return {k: v for k, v in raw.items() if isinstance(v, int | float) and math.isfinite(v)}

    def arm(self) -> dict[str, str]:
        """What identifies this run's cell: its choices and command-line overrides, seed aside."""
        keys = {k: str(v) for k, v in (self.record.get("overrides") or {}).items() if is_arm(k)}
        keys |= {k: str(v) for k, v in (self.record.get("choices") or {}).items()}
        keys.pop("seed", None)
        if self.record.get(FINGERPRINT):
            keys[FINGERPRINT] = str(self.record[FINGERPRINT])[:12]
        return keys

    def config(self) -> dict:
        """The config the run ran with (.hydra/config.yaml), {} when absent."""
        path = self.folder / ".hydra" / "config.yaml"
        return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}

    def test_images(self) -> int | None:
        """How many test images its test/acc was measured on: recorded in metrics.json, else the
        split its config asks for (data/splits.py), None when neither says."""
        for key in ("test/n", "test_size", "n_test"):
            value = self.record.get(key, self.metrics.get(key))
            if value:
                return int(value)
        data = self.config().get("data") or {}
        if data.get("name") not in EMBEDDED_SIZES:  # other sources: recorded by the run (test_size)
            return None
        n, official = EMBEDDED_SIZES[data["name"]]
        if official is not None:
            return official
        sizes = split_sizes(
            n, False, data.get("val_fraction", 0.0), data.get("test_fraction", 0.0), 1.0, None
        )
        return sizes.test or None


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


def test_images(runs: list[Run]) -> int | None:
    """The smallest test-set size among the runs (the most evaluation noise), None when unknown."""
    sizes = [n for n in (r.test_images() for r in runs) if n]
    return min(sizes) if sizes else None


def disk_usage(folder: Path) -> int:
    """Bytes of every file below `folder`."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
