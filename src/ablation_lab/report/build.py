"""`ablation-report <sweep folder> [<sweep folder> ...]`: the report of a sweep (written at its end,
and rebuilt on demand from its run folders, finished or not): report.md, report.html (self-contained),
report.csv and the figures in report/. With several folders: the same cells across sweeps."""

import csv
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ablation_lab.report import analysis, figures
from ablation_lab.report.board import write_board
from ablation_lab.report.render import Block, axis_table, cells_table, mean_std, to_html, to_markdown
from ablation_lab.report.runs import FINGERPRINT, SCORE, SHOWN, disk_usage, load_runs, varying_keys
from ablation_lab.report.sweepdata import SweepData, load, setting
from ablation_lab.report.verdicts import Decision, SweepDecision, decide
from ablation_lab.report.wording import cell_word, comparison_table, family_line, headline, interval, line

REPORT = "report"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def _header(data: SweepData, decision: Decision) -> Block:
    seeds = sorted({r.record.get("choices", {}).get("seed") for r in data.done}, key=str)
    images = f"{data.n_test} test images per run" if data.n_test else "test images per run unknown"
    lines = [
        f"{data.sweep}: {len(data.runs)} runs, {len(data.done)} finished, in {len(data.rows)} cells × seeds "
        f"{seeds}; disk {_size(disk_usage(data.sweep))}.",
        f"Setting: {setting(data.runs)}. Axes: {', '.join(data.keys) or 'none (one cell)'}.",
        (
            f"Ranked by {SHOWN}, the objective the adaptive search (Optuna) chose its trials by; {SCORE} is "
            f"shown. No verdict: trials chosen from earlier results cannot be tested as if fixed in advance."
            if data.adaptive
            else f"Score: {SCORE}, the test accuracy of the checkpoint validation chose (its best val/acc "
            f"epoch). {SHOWN}, the maximum that chose it, is shown but never ranked or tested: it is "
            f"inflated most for the noisiest arm and capped for early stopping."
        ),
        f"Noise: 95% intervals over seeds (Student's t); {images}, so every variance is at least "
        f"acc(1−acc)/n (intervals marked * are set by that floor).",
        f"Control: {data.control_why}.",
        family_line(decision),
    ]
    if FINGERPRINT in data.keys:
        lines.append(
            f"Not pooled: the runs were trained on different data ({FINGERPRINT} differs); runs of different "
            f"data are kept in separate cells and compared as such, never averaged together."
        )
    return Block("Sweep", lines)


def sweep_blocks(data: SweepData, s: SweepDecision, decision: Decision, out: Path) -> list[Block]:
    """The report's sections for one sweep; figures are written into `out`."""
    rows, keys = data.rows, data.keys
    scored = [r for r in rows if r.test.n]
    best = f"{scored[0].cell.label} ({mean_std(scored[0].test)})" if scored else "none"
    blocks = [_header(data, decision), Block("Verdict", headline(decision, s, best))]
    out.mkdir(parents=True, exist_ok=True)
    table = Block("Cells", table=cells_table(rows, keys, s))
    if rows:
        table.figures.append(figures.cell_scores(rows, out / "cells.png"))
    blocks.append(table)
    axes = s.design.crossed_axes()
    for axis in axes:
        blocks.append(
            Block(
                f"Axis {axis} on its own (other axes averaged over a full grid)",
                table=axis_table(axis, analysis.marginal(rows, axis, data.n_test)),
            )
        )
    independent = s.design.axes
    if len(independent) > 1 and not axes:
        combos = len({tuple(r.cell.values.get(k) for k in independent) for r in rows})
        full = 1
        for k in independent:
            full *= len({r.cell.values.get(k) for r in rows})
        blocks.append(
            Block(
                "Axes not pooled",
                [
                    f"{', '.join(independent)} are not fully crossed ({combos} of {full} combinations): each "
                    f"cell is compared as a whole; averaging runs by one axis would mix in the others."
                ],
            )
        )
    if s.verdicts:
        blocks.append(Block("Comparisons", [family_line(decision)], comparison_table(s)))
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
    apart = [r for r in data.runs if r.status != "done"]
    if apart:
        lines = [
            f"{r.folder.name}: {r.status}" + (f" ({r.record['error']})" if r.record.get("error") else "")
            for r in apart
        ]
        blocks.append(Block(f"Not counted: {len(apart)} of {len(data.runs)} runs did not finish", lines))
    return blocks


@dataclass
class Written:
    """A report on disk (report.md; report.html beside it) and the blocks it was written from, so
    that the console shows its verdict without reading the Markdown back."""

    path: Path
    title: str
    blocks: list[Block]

    @property
    def verdict(self) -> str:
        verdicts = [b for b in self.blocks if b.heading.split(": ")[-1] == "Verdict"]
        across = [b for b in self.blocks if b.heading == "Across sweeps"]
        return "\n\n".join(p for b in across[:1] + verdicts for p in b.paragraphs)

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


def write_report(sweep: Path, control: str | None = None) -> Written:
    """Write the report of one sweep into its folder (and its verdict into TensorBoard)."""
    sweep = Path(sweep)
    data = load(sweep, control=control)
    decision = decide([data.design()])
    blocks = sweep_blocks(data, decision.sweeps[0], decision, sweep / REPORT)
    vs = {v.first: v for v in decision.sweeps[0].verdicts if v.kind == "control"}
    with open(sweep / f"{REPORT}.csv", "w", newline="") as f:
        writer = csv.writer(f)
        stats_ = ("mean", "std", "low", "high")
        writer.writerow(
            [
                *data.keys,
                "n",
                *(f"{SCORE} {a}" for a in stats_),
                *(f"{SHOWN} {a}" for a in stats_),
                "minus control",
                "minus control low",
                "minus control high",
                "adjusted p",
                "P(> control)",
                "verdict",
            ]
        )
        for r in data.rows:
            v = vs.get(r.cell.label)
            is_control = data.control is not None and r is data.rows[data.control]
            tail = [v.diff, v.low, v.high, v.p, v.prob, cell_word(v)] if v else [""] * 5
            writer.writerow(
                [
                    *r.cell.values.values(),
                    r.test.n,
                    *(getattr(s, a) for s in (r.test, r.val) for a in stats_),
                    *(["", "", "", "", "", "control"] if is_control else tail + [""] * (6 - len(tail))),
                ]
            )
    written = _write(sweep, f"Sweep report: {sweep.name}", blocks)
    write_board(sweep, written.verdict)
    return written


def write_comparison(sweeps: list[Path], out: Path, control: str | None = None) -> Written:
    """The same cells across several sweeps (e.g. before and after a change), then each sweep; every
    verdict of the comparison (each sweep's and across sweeps) is one family."""
    keys = varying_keys([r for sweep in sweeps for r in load_runs(sweep) if r.status == "done"])
    datas = [load(sweep, keys, control) for sweep in sweeps]
    names = [d.sweep.name for d in datas]
    pairs = analysis.across_sweeps({d.sweep.name: d.rows for d in datas})
    decision = decide([d.design() for d in datas], pairs)
    blocks = []
    for i, (data, s) in enumerate(zip(datas, decision.sweeps, strict=True)):
        sections = sweep_blocks(data, s, decision, out / REPORT / f"sweep{i + 1}")
        blocks += [
            Block(f"{data.sweep.name}: {b.heading}", b.paragraphs, b.table, b.figures) for b in sections
        ]
    header = ["cell", f"{SCORE} − {names[0]}", "interval", "adjusted p", f"P(> {names[0]})", "verdict"]
    body = [
        [
            v.first,
            f"{v.diff:+.4f}",
            interval(v),
            "–" if v.p is None else f"{v.p:.2g}",
            f"{v.prob:.2f}",
            "Winner" if v.winner else "Tie",
        ]
        for v in decision.across
    ]
    lines = [line(v) for v in decision.across if v.winner] or [
        f"Tie across sweeps: no cell's {SCORE} changed beyond noise ({len(decision.across)} cells compared)."
    ]
    compare = Block(
        "Across sweeps",
        [
            *lines,
            f"Change: mean {SCORE} minus that of {names[0]}, Welch's test over seeds (variance floored at "
            f"the evaluation noise), Holm over the cells. {family_line(decision)}",
        ],
        [header, *body],
    )
    written = _write(out, f"Sweep comparison: {', '.join(names)}", [compare, *blocks])
    write_board(out, written.verdict)
    return written


def main() -> None:
    """Console entry point: ablation-report <sweep folder> [...] [--out <folder>] [--control <cell>]."""
    import argparse

    parser = argparse.ArgumentParser(prog="ablation-report", description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep folders (logs/multiruns/<date>_<time>)")
    parser.add_argument(
        "--out", type=Path, help="where a comparison of several sweeps goes (default logs/reports/<time>)"
    )
    parser.add_argument(
        "--latex", action="store_true", help="also write <sweep>/report.tex, the cells as a table for a paper"
    )
    parser.add_argument(
        "--control",
        help="the cell the others are compared with, e.g. activation=relu (default: the config's defaults)",
    )
    args = parser.parse_args()
    for sweep in args.sweeps:
        if not sweep.is_dir() or not any(sweep.glob("*/metrics.json")):
            print(
                f"ablation-report: error: '{sweep}' is not a sweep folder (no <run>/metrics.json inside)",
                file=sys.stderr,
            )
            sys.exit(2)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        print(f"ablation-report: error: --out '{args.out}' is a file, not a folder", file=sys.stderr)
        sys.exit(2)
    if args.latex:
        from ablation_lab.report.latex import write_latex

        for sweep in args.sweeps:
            data = load(sweep, control=args.control)
            tex = write_latex(data.rows, sweep / "report.tex", f"{sweep.name}: test accuracy per cell")
            print(f"latex: {tex}")
    if len(args.sweeps) == 1:
        report = write_report(args.sweeps[0], args.control)
    else:
        out = args.out or Path("logs") / "reports" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        out.mkdir(parents=True, exist_ok=True)
        report = write_comparison(args.sweeps, out, args.control)
    print(report.summary())
    print(f"report: {report.path}  {report.path.with_suffix('.html')}")
