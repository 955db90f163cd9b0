"""What a sweep says, in numbers: each cell's mean and 95% interval over seeds, a winner only when
it beats the runner-up beyond seed noise (Welch's t-test, p < 0.05), and the same verdict for each
swept axis on its own (its marginal effect: runs pooled over the other axes)."""

from dataclasses import dataclass

from ablation_lab.report.runs import SCORES, Cell, Run
from ablation_lab.report.stats import Comparison, Summary, paired, summarize, welch

SELECT = SCORES[0]  # cells are ranked on validation; test is reported, not used to choose


@dataclass
class CellStats:
    cell: Cell
    val: Summary
    test: Summary


def cell_table(cells: list[Cell]) -> list[CellStats]:
    """Cells with their statistics, best validation mean first."""
    rows = [CellStats(c, summarize(c.scores(SCORES[0])), summarize(c.scores(SCORES[1]))) for c in cells]
    return sorted(rows, key=lambda r: -r.val.mean if r.val.n else float("inf"))


def _comparison(a: list[float], b: list[float]) -> str:
    return _text(welch(a, b), "Welch")


def _text(c: Comparison, test: str) -> str:
    if c.p is None:
        return f"{c.diff:+.4f}"
    return f"{c.diff:+.4f} [{c.low:+.4f}, {c.high:+.4f}], {test} p={c.p:.2g}"


def verdict(first: str, a: list[float], second: str, b: list[float], metric: str = SELECT) -> str:
    """One sentence: `first` beats `second` on `metric` beyond seed noise, or they tie within it."""
    if len(a) < 2 or len(b) < 2:
        return (
            f"No verdict on {metric}: {first} vs {second} differ by {_comparison(a, b)}, but with fewer "
            f"than 2 seeds per arm there is no seed noise to compare it with (sweep seed=0,1,2)."
        )
    c = welch(a, b)
    if c.significant and c.diff > 0:
        return f"Winner on {metric}: {first}, {_comparison(a, b)} over {second}."
    return f"Tie within seed noise on {metric}: {first} vs {second}, {_comparison(a, b)}."


def overall_verdict(rows: list[CellStats]) -> list[str]:
    """The verdict between the two best cells on validation, and what test accuracy says of them."""
    ranked = [r for r in rows if r.val.n]
    if len(ranked) < 2:
        return ["Only one cell finished: nothing to compare."] if ranked else ["No cell finished."]
    best, second = ranked[0], ranked[1]
    lines = [
        verdict(best.cell.label, best.cell.scores(SELECT), second.cell.label, second.cell.scores(SELECT))
    ]
    a, b = best.cell.scores(SCORES[1]), second.cell.scores(SCORES[1])
    if a and b:
        lines.append(f"On {SCORES[1]} the same two differ by {_comparison(a, b)}.")
    return lines


@dataclass
class AxisEffect:
    axis: str
    levels: list[tuple[str, Summary]]  # best validation mean first
    verdict: str


def _matched(runs: list[Run], axis: str, first: str, second: str) -> tuple[list[float], list[float]]:
    """Validation scores of runs at levels `first` and `second` of `axis` that agree on every other
    key and the seed: the pairs of a paired comparison."""

    def rest(run: Run) -> tuple:
        arm = run.arm()
        return (
            *sorted((k, v) for k, v in arm.items() if k != axis),
            run.record.get("choices", {}).get("seed"),
        )

    at = {
        lvl: {
            rest(r): r.metrics[SELECT]
            for r in runs
            if r.arm().get(axis) == lvl and r.metrics.get(SELECT) is not None
        }
        for lvl in (first, second)
    }
    keys = sorted(set(at[first]) & set(at[second]), key=str)
    return [at[first][k] for k in keys], [at[second][k] for k in keys]


def axis_effects(runs: list[Run], axes: list[str]) -> list[AxisEffect]:
    """For each swept axis: its levels' validation means over every run with that level (the other
    axes averaged over), and whether the best level beats the next beyond seed noise: a paired
    t-test over runs that agree on the other axes and the seed (Welch's when there are no pairs)."""
    effects = []
    for axis in axes:
        by_level: dict[str, list[float]] = {}
        for run in runs:
            value = run.metrics.get(SELECT)
            if value is not None:
                by_level.setdefault(run.arm().get(axis, "-"), []).append(value)
        if len(by_level) < 2:
            continue
        levels = sorted(((lvl, summarize(v)) for lvl, v in by_level.items()), key=lambda x: -x[1].mean)
        (top, _), (next_, _) = levels[0], levels[1]
        a, b = _matched(runs, axis, top, next_)
        if len(a) >= 2:
            c = paired(a, b)
            first, second = f"{axis}={top}", f"{axis}={next_}"
            test = f"paired t over {len(a)} runs matched on the other axes and seed"
            sentence = (
                f"Winner on {SELECT}: {first}, {_text(c, test)} over {second}."
                if c.significant and c.diff > 0
                else f"Tie within seed noise on {SELECT}: {first} vs {second}, {_text(c, test)}."
            )
        else:
            sentence = verdict(f"{axis}={top}", by_level[top], f"{axis}={next_}", by_level[next_])
        effects.append(AxisEffect(axis, levels, sentence))
    return effects


def across_sweeps(tables: dict[str, list[CellStats]]) -> list[dict]:
    """The cells present in several sweeps, side by side, with the change from the first sweep."""
    names = list(tables)
    by_label = [{r.cell.label: r for r in tables[n]} for n in names]
    rows = []
    for label in dict.fromkeys(lbl for table in by_label for lbl in table):
        row = {"cell": label}
        for name, table in zip(names, by_label, strict=True):
            row[name] = table.get(label)
        first = row[names[0]]
        for name in names[1:]:
            other = row[name]
            if first is not None and other is not None:
                row[f"change {name}"] = _comparison(other.cell.scores(SELECT), first.cell.scores(SELECT))
        rows.append(row)
    return rows
