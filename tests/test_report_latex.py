"""`ablation-report --latex`: the cells as a booktabs table, labels escaped, intervals in [0, 1]."""

from ablation_lab.report.analysis import CellStats
from ablation_lab.report.latex import cells_table, escape
from ablation_lab.report.runs import Cell
from ablation_lab.report.stats import summarize


def test_special_characters_are_escaped():
    assert escape("a$\\frac$_b&50%") == r"a\$\textbackslash{}frac\$\_b\&50\%"


def test_a_row_per_cell_with_mean_std_interval_and_seeds():
    rows = [
        CellStats(Cell({"activation": "relu"}), summarize([0.95, 0.97, 0.96]), summarize([0.97, 0.98, 0.97])),
        CellStats(Cell({"activation": "tan_h"}), summarize([0.10, 0.30]), summarize([0.2, 0.3])),
    ]
    table = cells_table(rows, "sweep_1")
    lines = table.splitlines()
    assert "\\caption{sweep\\_1}" in table and lines[-1] == "\\end{table}"
    relu = next(ln for ln in lines if ln.startswith("relu &"))
    assert relu.startswith("relu & 3 & 0.9600 $\\pm$ 0.0100 [0.9352, 0.9848]")
    tanh = next(ln for ln in lines if ln.startswith("tan\\_h &"))
    assert "[0.0000, " in tanh  # 2 seeds: t = 12.7, the interval clipped at 0
