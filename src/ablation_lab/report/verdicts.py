"""The report's decisions, as one family: every verdict a report makes (arms against the control,
every pair of arms, the swept axes and their interactions, the same cell across sweeps) is a member,
and the family is corrected together, so that the chance of any false "Winner" in a report is at
most ALPHA whatever the sweep's shape or seed count.

Within a set the test itself accounts for the comparisons (Dunnett, Tukey, Holm over the ANOVA's
F-tests and over pre-specified across-sweep pairs); the sets split ALPHA equally (Bonferroni).
These functions take plain numbers, so that simulated sweeps run through exactly what a report does.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ablation_lab.report import anova, family, power
from ablation_lab.report.stats import holm, prob_better, welch

ALPHA = 0.05
REFERENCE = (0.005, 0.01)  # differences whose seed needs every tie states


@dataclass
class Design:
    """One sweep as the decision sees it: cells (label, test scores of its runs, axis levels), the
    swept axes, the control cell (None: none), test images per run, and whether it was adaptive."""

    labels: list[str]
    groups: list[list[float]]
    levels: list[dict[str, str]]
    axes: list[str]
    control: int | None = None
    n_test: int | None = None
    adaptive: bool = False

    def crossed_axes(self) -> list[str]:
        """The axes that form a full grid with replicates (≥ 2 of them), else none."""
        if len(self.axes) < 2 or self.adaptive:
            return []
        return self.axes if anova.crossed(self.levels, self.axes) else []

    def sets(self) -> list[str]:
        if self.adaptive or len(self.groups) < 2:
            return []
        out = ["control"] if self.control is not None else []
        if len(self.groups) >= 3 or self.control is None:
            out.append("pairs")
        return out + (["axes"] if self.crossed_axes() else [])


@dataclass(frozen=True)
class Verdict:
    """first − second (or an ANOVA term when `term` is set), decided at the set's level; `p` is
    adjusted for the whole family (Winner ⇔ p < ALPHA), the interval simultaneous within its set."""

    kind: str  # control | pairs | axes | across
    first: str
    second: str
    diff: float | None
    low: float | None
    high: float | None
    p: float | None
    prob: float | None
    winner: bool
    term: anova.Effect | None = None


@dataclass
class Power:
    """What this sweep could see: `detect` at 80% power, and the seeds per arm REFERENCE needs."""

    kind: str  # control | pairs
    sigma: float
    seeds: int
    detect: float
    needed: dict[float, int | None]


@dataclass
class SweepDecision:
    design: Design
    pool: family.Pooled | None
    verdicts: list[Verdict] = field(default_factory=list)
    power: Power | None = None


@dataclass
class Decision:
    sweeps: list[SweepDecision]
    across: list[Verdict]
    sets: int
    comparisons: int

    @property
    def level(self) -> float:
        """The level each set is tested at."""
        return ALPHA / max(self.sets, 1)

    def winners(self) -> list[Verdict]:
        return [v for s in self.sweeps for v in s.verdicts if v.winner] + [v for v in self.across if v.winner]


def _family_p(p: float | None, sets: int) -> float | None:
    """A p-value adjusted within its set, adjusted for the sets too (Bonferroni): < ALPHA ⇔ Winner."""
    return None if p is None else min(1.0, p * sets)


def _pairs(kind: str, d: Design, pairs: list[family.Pair], sets: int, with_p: bool) -> list[Verdict]:
    return [
        Verdict(
            kind,
            d.labels[p.first],
            d.labels[p.second],
            p.diff,
            p.low,
            p.high,
            _family_p(p.p, sets),
            prob_better(d.groups[p.first], d.groups[p.second]) if with_p else None,
            p.beyond,
        )
        for p in pairs
    ]


def _effects(d: Design, sets: int) -> list[Verdict]:
    axes = d.crossed_axes()
    values = [x for g in d.groups for x in g]
    runs = [lv for g, lv in zip(d.groups, d.levels, strict=True) for _ in g]
    effects = anova.factorial(values, runs, axes, d.n_test)
    adjusted = holm([e.p for e in effects])
    out = []
    for e, p in zip(effects, adjusted, strict=True):
        first = second = ""
        diff = None
        if len(e.axes) == 1:  # best and worst level by marginal mean
            axis = e.axes[0]
            means: dict[str, list[float]] = {}
            for x, lv in zip(values, runs, strict=True):
                means.setdefault(lv[axis], []).append(x)
            ranked = sorted(means, key=lambda k: -np.mean(means[k]))
            first, second = f"{axis}={ranked[0]}", f"{axis}={ranked[-1]}"
            diff = float(np.mean(means[ranked[0]]) - np.mean(means[ranked[-1]]))
        p = _family_p(p, sets)
        out.append(Verdict("axes", first, second, diff, None, None, p, None, p < ALPHA, e))
    return out


def _power(d: Design, pool: family.Pooled, level: float) -> Power | None:
    if math.isnan(pool.var) or pool.df <= 0:
        return None
    kind = "control" if d.control is not None else "pairs"
    arms = len(d.groups)
    n = int(np.median(pool.ns))
    n0 = int(pool.ns[d.control]) if d.control is not None else n
    if kind == "control":
        others = tuple(int(x) for i, x in enumerate(pool.ns) if i != d.control)
        crit = family.dunnett_critical(others, n0, pool.df, level)
    else:
        crit = family.tukey_critical(arms, pool.df, level)
    sigma = math.sqrt(pool.var)
    detect = power.detectable(sigma, n, n0, pool.df, crit)
    needed = {delta: power.seeds_needed(delta, sigma, arms, level, kind) for delta in REFERENCE}
    return Power(kind, sigma, n, detect, needed)


def decide(
    designs: list[Design], across: list[tuple[str, list[float], list[float]]] = (), with_p: bool = True
) -> Decision:
    """Every verdict of a report: `designs` (one per sweep) and `across`, pre-specified pairs
    (label, later sweep's scores, first sweep's scores) of the same cell in two sweeps.
    with_p=False: the decisions alone (no p-values, P(A>B) or power), what a simulation needs."""
    n_test = next((d.n_test for d in designs if d.n_test), None)
    sets = sum(len(d.sets()) for d in designs) + (1 if across else 0)
    level = ALPHA / max(sets, 1)
    decision = Decision([], [], sets, 0)
    for d in designs:
        kinds = d.sets()
        pool = family.pooled(d.groups, d.n_test) if kinds else None
        out = SweepDecision(d, pool)
        if "control" in kinds:
            out.verdicts += _pairs(
                "control", d, family.vs_control(pool, d.control, 1 - level, with_p), sets, with_p
            )
        if "pairs" in kinds:
            out.verdicts += _pairs("pairs", d, family.all_pairs(pool, 1 - level, with_p), sets, with_p)
        if "axes" in kinds:
            out.verdicts += _effects(d, sets)
        if kinds and with_p:
            out.power = _power(d, pool, 1 - level)
        decision.sweeps.append(out)
    if across:
        tests = [welch(a, b, n_test, 1 - level) for _, a, b in across]
        adjusted = holm([1.0 if t.p is None else t.p for t in tests])
        for (label, a, b), t, p in zip(across, tests, adjusted, strict=True):
            p = _family_p(p, sets)
            winner = t.p is not None and p < ALPHA
            decision.across.append(
                Verdict("across", label, label, t.diff, t.low, t.high, p, prob_better(a, b), winner)
            )
    decision.comparisons = sum(len(s.verdicts) for s in decision.sweeps) + len(decision.across)
    return decision
