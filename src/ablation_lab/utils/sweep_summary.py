"""At the end of a multirun: one table of every cell (mean ± std over seeds), as summary.md,
summary.csv and a bar chart summary.png in the sweep folder, and printed to the terminal."""

import csv
import json
import logging
import statistics
from collections import defaultdict
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ablation_lab.sweep.cells import status_of
from ablation_lab.utils import run_record
from ablation_lab.utils.run_files import METRICS_FILE

log = logging.getLogger(__name__)
SCORES = ("val/acc_best", "test/acc")


def collect(sweep_dir: Path) -> list[dict]:
    """The metrics.json of every run below `sweep_dir`, each with its folder name and its status
    (`killed` for a run whose process is gone while it still says `running`)."""
    runs = []
    for path in sorted(sweep_dir.glob(f"*/{METRICS_FILE}")):
        run = json.loads(path.read_text())
        run["folder"], run["status"] = path.parent.name, status_of(run)
        runs.append(run)
    return runs


def _unfinished_lines(runs: list[dict]) -> list[str]:
    """Cells that are no result: failed, diverged, killed, interrupted or still running."""
    bad = [r for r in runs if r["status"] != "done"]
    if not bad:
        return []
    lines = ["", f"Not counted ({len(bad)} of {len(runs)} cells did not finish):", ""]
    lines += [f"- {r['folder']}: {r['status']}" + (f" ({r['error']})" if r.get("error") else "") for r in bad]
    return lines


def _cell_keys(run: dict) -> dict[str, str]:
    """What identifies a run's cell: its choices and its command-line overrides, seed aside."""
    keys = {k: str(v) for k, v in run.get("overrides", {}).items()}
    keys |= {k: str(v) for k, v in run["choices"].items()}
    keys.pop("seed", None)
    return keys


def summarize(runs: list[dict]) -> tuple[list[str], list[dict]]:
    """Group runs by every choice or override that varies (seed aside); mean, std, count per score."""
    if not runs:
        return [], []
    cells_of = [_cell_keys(r) for r in runs]
    keys = sorted({k for c in cells_of for k in c})
    varying = [k for k in keys if len({c.get(k) for c in cells_of}) > 1] or keys[:1]
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for r, c in zip(runs, cells_of, strict=True):
        cells[tuple(c.get(k) for k in varying)].append(r)
    rows = []
    for cell, members in cells.items():
        row = dict(zip(varying, cell, strict=True)) | {"runs": len(members)}
        for score in SCORES:
            vals = [m["metrics"][score] for m in members if m["metrics"].get(score) is not None]
            row[f"{score} mean"] = statistics.fmean(vals) if vals else None
            row[f"{score} std"] = statistics.stdev(vals) if len(vals) > 1 else 0.0 if vals else None
        rows.append(row)
    rows.sort(key=lambda r: -(r[f"{SCORES[0]} mean"] or 0.0))
    return varying, rows


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def write_summary(sweep_dir: Path) -> Path | None:
    """Write summary.{md,csv,png} for the runs under `sweep_dir`; returns the markdown path."""
    runs = collect(sweep_dir)
    varying, rows = summarize([r for r in runs if r["status"] == "done"])
    if not runs:
        return None
    columns = list(rows[0])
    with open(sweep_dir / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines, verdict = [], "No cell finished."
    if rows:
        best, runner_up = rows[0], rows[1] if len(rows) > 1 else None
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_fmt(r[c]) for c in columns) + " |" for r in rows]
        score = f"{SCORES[0]} mean"
        winner = ", ".join(f"{k}={best[k]}" for k in varying)
        verdict = f"Best: {winner} with {SCORES[0]} {best[score]:.4f}"
        if runner_up is not None and runner_up[score] is not None:
            verdict += f", {best[score] - runner_up[score]:+.4f} over the next cell"
        verdict += "."
        _plot(sweep_dir / "summary.png", varying, rows)
    md = sweep_dir / "summary.md"
    md.write_text("\n".join([*lines, "", verdict, *_unfinished_lines(runs)]) + "\n")
    return md


def _plot(path: Path, varying: list[str], rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [", ".join(str(r[k]) for k in varying) for r in rows]
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(rows) + 2), 4))
    for i, score in enumerate(SCORES):
        means = [r[f"{score} mean"] or 0.0 for r in rows]
        stds = [r[f"{score} std"] or 0.0 for r in rows]
        ax.bar([x + 0.4 * i for x in range(len(rows))], means, 0.4, yerr=stds, label=score, capsize=3)
    ax.set_xticks([x + 0.2 for x in range(len(rows))], labels, rotation=45, ha="right")
    ax.set_ylabel("accuracy (mean ± std over seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class SweepSummary(Callback):
    """Hydra callback: summarize the sweep folder once every job has finished."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        md = write_summary(sweep_dir)
        if md is not None:
            print(md.read_text())
            print(f"summary: {md}")
        # workers of parallel launchers recorded their failures in metrics.json, not in this process
        run_record.FAILED.extend(r["folder"] for r in collect(sweep_dir) if r["status"] not in ("done",))
