"""What a sweep says, in numbers: each cell's test accuracy (of the checkpoint validation chose)
with its 95% interval over seeds, and the report's family of verdicts (verdicts.py) between the cells,
their axes and across sweeps. The tested score is never the one that chose the epoch: val/acc_best
is the maximum of a noisy curve, inflated most for the noisiest arm and capped for early stopping."""

from dataclasses import dataclass

from ablation_lab.report.runs import SCORE, SHOWN, Cell
from ablation_lab.report.stats import Summary, summarize
from ablation_lab.report.verdicts import Design


@dataclass
class CellStats:
    cell: Cell
    test: Summary
    val: Summary


def cell_table(cells: list[Cell], n_test: int | None, by_validation: bool = False) -> list[CellStats]:
    """Cells with their statistics, best test mean first (cells without a test score last); an
    adaptive search's trials by validation instead, the score it chose them by (ranking them by
    test accuracy would tune hyperparameters on the test set)."""
    rows = [CellStats(c, summarize(c.scores(SCORE), n_test), summarize(c.scores(SHOWN))) for c in cells]
    rank = (lambda r: r.val) if by_validation else (lambda r: r.test)
    return sorted(rows, key=lambda r: -rank(r).mean if rank(r).n else float("inf"))


def design(
    rows: list[CellStats], keys: list[str], control: int | None, n_test: int | None, adaptive: bool
) -> Design:
    """The decision's view of a sweep: the scored cells in the table's order."""
    scored = [r for r in rows if r.test.n]
    index = {id(r): i for i, r in enumerate(scored)}
    return Design(
        [r.cell.label for r in scored],
        [r.cell.scores(SCORE) for r in scored],
        [r.cell.values for r in scored],
        keys,
        index.get(id(rows[control])) if control is not None else None,
        n_test,
        adaptive,
    )


def marginal(rows: list[CellStats], axis: str, n_test: int | None) -> list[tuple[str, Summary]]:
    """An axis' levels: test accuracy over every run at that level (other axes averaged over, which
    is fair only on a full grid), best first."""
    by_level: dict[str, list[float]] = {}
    for r in rows:
        by_level.setdefault(r.cell.values.get(axis, "-"), []).extend(r.cell.scores(SCORE))
    levels = [(lvl, summarize(v, n_test)) for lvl, v in by_level.items() if v]
    return sorted(levels, key=lambda x: -x[1].mean)


def across_sweeps(tables: dict[str, list[CellStats]]) -> list[tuple[str, list[float], list[float]]]:
    """(cell, later sweep's scores, first sweep's scores) for each cell present in both: the
    pre-specified pairs of a comparison report."""
    names = list(tables)
    first = {r.cell.label: r for r in tables[names[0]]}
    pairs = []
    for name in names[1:]:
        for r in tables[name]:
            if r.cell.label in first and r.test.n and first[r.cell.label].test.n:
                pairs.append(
                    (f"{r.cell.label} ({name})", r.cell.scores(SCORE), first[r.cell.label].cell.scores(SCORE))
                )
    return pairs
