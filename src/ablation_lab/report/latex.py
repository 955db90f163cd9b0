"""A sweep's cells as a LaTeX table ready for a paper (`ablation-report --latex`): one row per cell,
test accuracy (the tested score) as mean ± std over seeds with its 95% interval, the number of
seeds, and the validation maximum that chose the checkpoint. Cell labels are escaped."""

from pathlib import Path

from ablation_lab.report.analysis import CellStats

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def escape(text: str) -> str:
    """`text` with LaTeX's special characters escaped."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def _cell(summary) -> str:
    if not summary.n:
        return "--"
    spread = f" $\\pm$ {summary.std:.4f}" if summary.n > 1 else ""
    interval = (  # an accuracy's interval lives in [0, 1]
        f" [{max(0.0, summary.low):.4f}, {min(1.0, summary.high):.4f}]" if summary.low is not None else ""
    )
    return f"{summary.mean:.4f}{spread}{interval}"


def cells_table(rows: list[CellStats], caption: str) -> str:
    """A booktabs table of the cells, best test accuracy first."""
    keys = list(rows[0].cell.values) if rows else []
    header = " & ".join([*(escape(k) for k in keys), "seeds", "test/acc (95\\% CI)", "val/acc\\_best"])
    lines = [
        "% needs \\usepackage{booktabs}",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{{escape(caption)}}}",
        f"\\begin{{tabular}}{{{'l' * len(keys)}rll}}",
        "\\toprule",
        header + " \\\\",
        "\\midrule",
    ]
    for row in rows:
        values = [escape(row.cell.values.get(k, "")) for k in keys]
        lines.append(" & ".join([*values, str(row.test.n), _cell(row.test), _cell(row.val)]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def write_latex(rows: list[CellStats], path: Path, caption: str) -> Path:
    path.write_text(cells_table(rows, caption))
    return path
