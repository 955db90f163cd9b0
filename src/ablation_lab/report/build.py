"""`ablation-report <sweep folder> [<sweep folder> ...]`: the report of a sweep (written at its end,
and rebuilt on demand from its run folders, finished or not): report.md, report.html (self-contained),
report.csv and the figures in report/. With several folders: the same cells across sweeps."""

import csv
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from ablation_lab.report import analysis, figures
from ablation_lab.report.render import (
    Block,
    axis_table,
    cells_table,
    interval,
    mean_std,
    to_html,
    to_markdown,
)
from ablation_lab.report.runs import Run, disk_usage, group_cells, load_runs, varying_keys

REPORT = "report"


def _setting(runs: list[Run]) -> str:
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


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def sweep_blocks(
    sweep: Path, out: Path, keys: list[str] | None = None
) -> tuple[list[Block], list[analysis.CellStats], list[str]]:
    """The report's sections for one sweep, its cells told apart by `keys` (default: what varies
    in it); figures are written into `out`."""
    runs = load_runs(sweep)
    done = [r for r in runs if r.status == "done"]
    keys = varying_keys(done) if keys is None else keys
    cells = group_cells(done, keys)
    rows = analysis.cell_table(cells)
    seeds = sorted({r.record.get("choices", {}).get("seed") for r in done}, key=str)
    header = Block(
        "Sweep",
        [
            f"{sweep}: {len(runs)} runs, {len(done)} finished, in {len(cells)} cells × seeds {seeds}; "
            f"disk {_size(disk_usage(sweep))}.",
            f"Setting: {_setting(runs)}. Axes: {', '.join(keys) or 'none (one cell)'}. Cells are ranked by "
            f"val/acc_best; test/acc is reported, never used to choose. Intervals: 95% over seeds "
            f"(Student's t, clipped to [0, 1]); verdicts: Welch's t-test, p < 0.05.",
        ],
    )
    blocks = [header, Block("Verdict", analysis.overall_verdict(rows))]
    out.mkdir(parents=True, exist_ok=True)
    table = Block("Cells", table=cells_table(rows, keys))
    if rows:
        table.figures.append(figures.cell_scores(rows, out / "cells.png"))
    blocks.append(table)
    effects = analysis.axis_effects(done, keys) if len(keys) > 1 else []
    for effect in effects:
        blocks.append(
            Block(f"Axis {effect.axis} on its own (other axes pooled)", [effect.verdict], axis_table(effect))
        )
    cells = [r.cell for r in rows]  # the same order and colours in every figure
    curves = figures.learning_curves(cells, out / "curves.png") if cells else None
    if curves:
        blocks.append(Block("Learning curves", figures=[curves]))
    init = figures.init_diagnostics(cells, out / "init.png") if cells else None
    if init:
        blocks.append(
            Block(
                "At initialization",
                ["Per-layer statistics of one batch before the first update."],
                figures=[init],
            )
        )
    apart = [r for r in runs if r.status != "done"]
    if apart:
        lines = [
            f"{r.folder.name}: {r.status}" + (f" ({r.record['error']})" if r.record.get("error") else "")
            for r in apart
        ]
        blocks.append(Block(f"Not counted: {len(apart)} of {len(runs)} runs did not finish", lines))
    return blocks, rows, keys


@dataclass
class Written:
    """A report on disk (report.md; report.html beside it) and the blocks it was written from, so
    that the console shows its verdict without reading the Markdown back."""

    path: Path
    title: str
    blocks: list[Block]

    @property
    def verdict(self) -> str:
        return "\n\n".join(p for b in self.blocks if b.heading == "Verdict" for p in b.paragraphs)

    def summary(self) -> str:
        """The report up to its first table of cells, as Markdown."""
        head = []
        for block in self.blocks:
            if block.heading == "Cells" or block.heading.endswith(": Cells"):
                break
            head.append(block)
        return to_markdown(self.title, head, self.path.parent).strip()


def _write(folder: Path, title: str, blocks: list[Block]) -> Written:
    (folder / f"{REPORT}.md").write_text(to_markdown(title, blocks, folder))
    (folder / f"{REPORT}.html").write_text(to_html(title, blocks))
    return Written(folder / f"{REPORT}.md", title, blocks)


def write_report(sweep: Path) -> Written:
    """Write the report of one sweep into its folder."""
    sweep = Path(sweep)
    blocks, rows, keys = sweep_blocks(sweep, sweep / REPORT)
    with open(sweep / f"{REPORT}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                *keys,
                "n",
                "val/acc_best mean",
                "val/acc_best std",
                "val/acc_best low",
                "val/acc_best high",
                "test/acc mean",
                "test/acc std",
                "test/acc low",
                "test/acc high",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    *r.cell.values.values(),
                    r.val.n,
                    *(getattr(s, a) for s in (r.val, r.test) for a in ("mean", "std", "low", "high")),
                ]
            )
    return _write(sweep, f"Sweep report: {sweep.name}", blocks)


def write_comparison(sweeps: list[Path], out: Path) -> Written:
    """The same cells across several sweeps (e.g. before and after a change), then each sweep."""
    tables, blocks = {}, []
    keys = varying_keys([r for sweep in sweeps for r in load_runs(sweep) if r.status == "done"])
    for i, sweep in enumerate(sweeps):
        sweep_sections, rows, _ = sweep_blocks(sweep, out / REPORT / f"sweep{i + 1}", keys)
        tables[sweep.name] = rows
        blocks += [
            Block(f"{sweep.name}: {b.heading}", b.paragraphs, b.table, b.figures) for b in sweep_sections
        ]
    names = list(tables)
    header = [
        "cell",
        *[f"{n} val/acc_best (95% interval)" for n in names],
        *[f"change {n}" for n in names[1:]],
    ]
    body = []
    for row in analysis.across_sweeps(tables):
        cells = [f"{mean_std(row[n].val)} {interval(row[n].val)}" if row[n] else "–" for n in names]
        body.append([row["cell"], *cells, *[row.get(f"change {n}", "–") for n in names[1:]]])
    compare = Block(
        "Across sweeps",
        [f"Change: mean val/acc_best minus that of {names[0]}, Welch's test over seeds."],
        [header, *body],
    )
    return _write(out, f"Sweep comparison: {', '.join(names)}", [compare, *blocks])


def main() -> None:
    """Console entry point: ablation-report <sweep folder> [<sweep folder> ...] [--out <folder>]."""
    import argparse

    parser = argparse.ArgumentParser(prog="ablation-report", description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep folders (logs/multiruns/<date>_<time>)")
    parser.add_argument(
        "--out", type=Path, help="where a comparison of several sweeps goes (default logs/reports/<time>)"
    )
    args = parser.parse_args()
    for sweep in args.sweeps:
        if not sweep.is_dir() or not any(sweep.glob("*/metrics.json")):
            print(
                f"ablation-report: error: '{sweep}' is not a sweep folder (no <run>/metrics.json inside)",
                file=sys.stderr,
            )
            sys.exit(2)
    if len(args.sweeps) == 1:
        report = write_report(args.sweeps[0])
    else:
        out = args.out or Path("logs") / "reports" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        out.mkdir(parents=True, exist_ok=True)
        report = write_comparison(args.sweeps, out)
    print(report.summary())
    print(f"report: {report.path}  {report.path.with_suffix('.html')}")
