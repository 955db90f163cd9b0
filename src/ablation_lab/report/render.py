"""The report as Markdown (figures beside it in report/) and as one self-contained HTML page
(figures embedded), built from the same blocks."""

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from ablation_lab.report.analysis import CellStats
from ablation_lab.report.runs import SCORE, SHOWN
from ablation_lab.report.stats import Summary
from ablation_lab.report.verdicts import SweepDecision
from ablation_lab.report.wording import cell_word, interval


@dataclass
class Block:
    """A heading with paragraphs, a table (header + rows) and figures, in that order."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)


def mean_std(s: Summary) -> str:
    return "–" if not s.n else f"{s.mean:.4f} ± {s.std:.4f}"


def ci(s: Summary) -> str:
    """The 95% interval of an accuracy, clipped to [0, 1] where it is bounded; * when the
    evaluation-noise floor set its width (the seeds spread less than n test images allow)."""
    if s.low is None:
        return "–"
    return f"[{max(0.0, s.low):.4f}, {min(1.0, s.high):.4f}]" + ("*" if s.floored else "")


def cells_table(
    rows: list[CellStats], keys: list[str], decision: SweepDecision | None = None
) -> list[list[str]]:
    """One row per cell, best test/acc first: its tested score, its comparison with the control, and
    val/acc_best (which chose the checkpoint: shown, never tested)."""
    d = decision.design if decision else None
    control = d.labels[d.control] if d and d.control is not None else None
    vs = {v.first: v for v in (decision.verdicts if decision else []) if v.kind == "control"}
    scores = [
        "n",
        f"{SCORE} mean ± std",
        "95% interval",
        "− control [simultaneous]",
        "P(> control)",
        "verdict",
    ]
    header = [*(keys or ["cell"]), *scores, f"{SHOWN} mean (not tested)"]
    body = []
    for r in rows:
        names = list(r.cell.values.values()) if keys else [r.cell.label]
        v = vs.get(r.cell.label)
        if r.cell.label == control:
            diff, prob, word = "control", "–", "control"
        elif v is not None:
            diff, prob, word = (
                f"{v.diff:+.4f} {interval(v)}",
                f"{v.prob:.2f}",
                cell_word(v),
            )
        else:
            diff, prob, word = "–", "–", "–"
        mean = "–" if not r.val.n else f"{r.val.mean:.4f}"
        body.append([*names, str(r.test.n), mean_std(r.test), ci(r.test), diff, prob, word, mean])
    return [header, *body]


def axis_table(axis: str, levels: list[tuple[str, Summary]]) -> list[list[str]]:
    header = [axis, "runs", f"{SCORE} mean ± std", "95% interval"]
    return [header, *[[level, str(s.n), mean_std(s), ci(s)] for level, s in levels]]


def to_markdown(title: str, blocks: list[Block], base: Path) -> str:
    lines = [f"# {title}", ""]
    for block in blocks:
        lines += [f"## {block.heading}", ""]
        for p in block.paragraphs:
            lines += [p, ""]
        if block.table:
            header, *body = block.table
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in body] + [""]
        for fig in block.figures:
            lines += [f"![{fig.stem}]({fig.relative_to(base).as_posix()})", ""]
    return "\n".join(lines)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3}td{font-variant-numeric:tabular-nums}img{max-width:100%;border:1px solid #eee}
p{line-height:1.4}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"""


def to_html(title: str, blocks: list[Block]) -> str:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
    ]
    for block in blocks:
        parts.append(f"<h2>{html.escape(block.heading)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in block.paragraphs]
        if block.table:
            header, *body = block.table
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body]
            parts.append("</table>")
        for fig in block.figures:
            data = base64.b64encode(fig.read_bytes()).decode()
            parts.append(f"<p><img alt='{html.escape(fig.stem)}' src='data:image/png;base64,{data}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)
