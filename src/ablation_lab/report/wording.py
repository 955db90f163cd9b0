"""The family's decisions in words a paper can quote: "Winner" only for a difference beyond noise
after the family's correction, "Tie" otherwise, and every tie with what this sweep could have seen."""

from ablation_lab.report.runs import SCORE, SHOWN
from ablation_lab.report.verdicts import REFERENCE, Decision, SweepDecision, Verdict

SHOWN_PAIRS = 3  # Tukey's winning pairs named in the headline; the rest are in the Comparisons table
TEST = {"control": "Dunnett", "pairs": "Tukey HSD", "across": "Welch, Holm"}


def _num(x: float | None, fmt: str = "+.4f") -> str:
    return "–" if x is None else format(x, fmt)


def interval(v: Verdict) -> str:
    return "–" if v.low is None else f"[{v.low:+.4f}, {v.high:+.4f}]"


def _p(v: Verdict) -> str:
    return "" if v.p is None else f"adjusted p={v.p:.2g}"


def _prob(v: Verdict) -> str:
    return "" if v.prob is None else f"P({v.first} > {v.second})={v.prob:.2f}"


def cell_word(v: Verdict) -> str:
    """A cell's verdict against the control, in the cells table and report.csv."""
    if not v.winner:
        return "Tie"
    return "Winner" if v.diff > 0 else "Winner: the control"


def detect(s: SweepDecision) -> str:
    if s.power is None:
        return ""
    target = "from the control" if s.power.kind == "control" else "between two cells"
    return f"this sweep could detect a difference of ±{s.power.detect:.4f} {target} at 80% power"


def line(v: Verdict, s: SweepDecision | None = None) -> str:
    """One verdict as a sentence."""
    word = "Winner" if v.winner else "Tie"
    if v.kind == "axes":
        e = v.term
        stat = f"F({e.df}, {e.df_resid})={e.f:.2f}, {_p(v)}"
        if len(e.axes) > 1:
            what = "the axes interact" if v.winner else "no interaction beyond noise"
            return f"{word} on interaction {e.name}: {what} ({stat})."
        spread = f"best {v.first} vs worst {v.second}, {v.diff:+.4f} in marginal mean"
        return f"{word} on axis {e.name}: {spread} ({'main effect' if v.winner else 'within noise'}; {stat})."
    flip = v.kind == "control" and v.winner and v.diff < 0  # say it as the winner minus the other
    diff = f"{-v.diff:+.4f} [{-v.high:+.4f}, {-v.low:+.4f}]" if flip else f"{v.diff:+.4f} {interval(v)}"
    prob = f"P({v.second} > {v.first})={1 - v.prob:.2f}" if flip and v.prob is not None else _prob(v)
    details = ", ".join(x for x in (diff, f"{TEST[v.kind]} {_p(v)}", prob) if x)
    if v.kind == "control":
        ahead, behind = (
            (f"{v.second} (the control)", v.first) if flip else (v.first, f"{v.second} (the control)")
        )
        head = (
            f"Winner vs the control: {ahead} over {behind}"
            if v.winner
            else f"Tie with the control: {v.first} vs {v.second}"
        )
    elif v.kind == "pairs":
        head = (
            f"Winner between cells: {v.first} over {v.second}"
            if v.winner
            else f"Tie: {v.first} vs {v.second}"
        )
    else:
        head = f"{word} across sweeps: {v.first} vs the first sweep"
    tail = f"; {detect(s)}" if s is not None and not v.winner and detect(s) else ""
    return f"{head}, {details}{tail}."


def power_lines(s: SweepDecision) -> list[str]:
    """What the sweep could and could not see, and the seeds a smaller difference would need."""
    if s.power is None:
        return []
    p = s.power
    needs = ", ".join(
        f"+{d} would need {n} seeds per arm" if n else f"+{d} would need more than 200 seeds per arm"
        for d, n in p.needed.items()
        if d in REFERENCE
    )
    out = [
        f"Power: {detect(s)} ({p.seeds} seeds per arm, σ={p.sigma:.4f} per run, family-corrected); "
        f"detecting {needs}."
    ]
    if p.seeds <= 2:
        out.append(
            "2 seeds per arm give one degree of freedom of seed noise per arm: only a difference larger "
            f"than about {p.detect:.3f} shows reliably, and a Tie says nothing about smaller ones "
            "(it is not 'no effect')."
        )
    return out


def headline(decision: Decision, s: SweepDecision, best: str) -> list[str]:
    """The Verdict section of one sweep: what it found first, then the ties, then its power."""
    d = s.design
    if d.adaptive:
        return [
            "No verdict: an adaptive search (Optuna) chose these trials from earlier results, so no test of "
            f"them is valid; they are ranked by {SHOWN}, the score the search chose them by ({SCORE} is "
            f"shown; ranking by it would tune on the test set). Best: {best}."
        ]
    if len(d.groups) < 2:
        return ["Only one cell finished: nothing to compare."] if d.groups else ["No cell finished."]
    if s.pool is None or s.pool.df <= 0:
        return [
            "No verdict: one seed per cell leaves no seed noise to compare with (sweep seed=0,1,2). "
            f"Best: {best}."
        ]
    order = {"axes": 0, "control": 1, "pairs": 2}  # what the axes do first, then cells
    winners = sorted(
        (v for v in s.verdicts if v.winner), key=lambda v: (order[v.kind], v.p if v.p is not None else 1.0)
    )
    pairs = [v for v in winners if v.kind == "pairs"]
    out = [line(v) for v in winners if v.kind != "pairs"] + [line(v) for v in pairs[:SHOWN_PAIRS]]
    if len(pairs) > SHOWN_PAIRS:
        out.append(f"… and {len(pairs) - SHOWN_PAIRS} more pairs of cells beyond noise (Comparisons, below).")
    ties = [v for v in s.verdicts if not v.winner and v.kind in ("control", "axes")]
    if not winners:
        out.append(
            f"Tie: no difference beyond noise among {len(d.groups)} cells after correcting for the "
            f"{decision.comparisons} comparisons of this report; best {SCORE}: {best}."
        )
    else:
        out.append(f"Best {SCORE}: {best}.")
    if d.control is not None:
        tied = [v for v in ties if v.kind == "control"]
        if tied:
            listed = ", ".join(f"{v.first} {v.diff:+.4f}" for v in tied[:12]) + (
                ", …" if len(tied) > 12 else ""
            )
            out.append(
                f"Tie with the control ({d.labels[d.control]}) for {len(tied)} cells: {listed}; {detect(s)}."
            )
    out += [line(v) for v in ties if v.kind == "axes"]
    return out + power_lines(s)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def family_line(decision: Decision) -> str:
    counts = {}
    for s in decision.sweeps:
        for v in s.verdicts:
            counts[v.kind] = counts.get(v.kind, 0) + 1
    counts["across"] = len(decision.across)
    names = {
        "control": "vs the control (Dunnett)",
        "pairs": "pairs of cells (Tukey HSD)",
        "axes": "axis and interaction F-tests (Holm)",
        "across": "cells across sweeps (Welch, Holm)",
    }
    parts = ", ".join(f"{n} {names[k]}" for k, n in counts.items() if n)
    if not decision.sets:
        return "Family: no verdicts."
    return (
        f"Family: {_count(decision.comparisons, 'comparison')} in {_count(decision.sets, 'set')} ({parts}), "
        f"each set at "
        f"α = 0.05/{decision.sets} = {decision.level:.4f}, so the chance of any false Winner in this report "
        f"is at most 5%. p-values are adjusted for the whole family (Winner: p < 0.05); intervals of "
        f"differences are simultaneous within their set at 1 − {decision.level:.4f}."
    )


def comparison_table(s: SweepDecision) -> list[list[str]]:
    header = ["comparison", "difference", "interval", "test", "adjusted p", "P(A>B)", "verdict"]
    body = []
    for v in s.verdicts:
        if v.kind == "axes":
            e = v.term
            body.append(
                [
                    f"{e.name} (F)",
                    _num(v.diff),
                    "–",
                    f"F({e.df}, {e.df_resid})={e.f:.2f}",
                    _num(v.p, ".2g"),
                    "–",
                    "Winner" if v.winner else "Tie",
                ]
            )
            continue
        name = f"{v.first} − {v.second}"
        body.append(
            [
                name,
                _num(v.diff),
                interval(v),
                TEST[v.kind],
                _num(v.p, ".2g"),
                _num(v.prob, ".2f"),
                "Winner" if v.winner else "Tie",
            ]
        )
    return [header, *body]
