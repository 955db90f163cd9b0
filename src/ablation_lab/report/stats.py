"""Statistics over seeds: a mean with its 95% interval, and Welch's t-test between two arms.

Seeds are few (2–5), so intervals use Student's t, not the normal approximation, and two arms
are compared without assuming equal variances (Welch 1947).
"""

import math
import statistics
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Summary:
    """Mean, sample std and the 95% interval of the mean over n seeds (interval None when n < 2)."""

    n: int
    mean: float
    std: float
    low: float | None
    high: float | None


def summarize(values: list[float]) -> Summary:
    n = len(values)
    if n == 0:
        return Summary(0, math.nan, math.nan, None, None)
    mean = statistics.fmean(values)
    if n < 2:
        return Summary(1, mean, 0.0, None, None)
    std = statistics.stdev(values)
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half)


@dataclass(frozen=True)
class Comparison:
    """a − b: the difference of means, its 95% interval and Welch's two-sided p-value."""

    diff: float
    low: float | None
    high: float | None
    p: float | None

    @property
    def significant(self) -> bool:
        """The 95% interval of the difference excludes 0 (p < 0.05)."""
        return self.p is not None and self.p < 1 - LEVEL


def welch(a: list[float], b: list[float]) -> Comparison:
    """Welch's t-test of mean(a) − mean(b); p None when either arm has fewer than 2 seeds."""
    diff = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2:
        return Comparison(diff, None, None, None)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:  # identical values in each arm: any difference is exact
        return Comparison(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.5 + LEVEL / 2, dof) * se
    p = 2 * stats.t.sf(abs(diff) / se, dof)
    return Comparison(diff, diff - half, diff + half, float(p))


def paired(a: list[float], b: list[float]) -> Comparison:
    """mean(a − b) of matched pairs, its 95% interval and the paired t-test's two-sided p."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    s = summarize(diffs)
    if s.n < 2:
        return Comparison(s.mean, None, None, None)
    if s.std == 0:
        return Comparison(s.mean, s.mean, s.mean, 1.0 if s.mean == 0 else 0.0)
    p = 2 * stats.t.sf(abs(s.mean) / (s.std / math.sqrt(s.n)), s.n - 1)
    return Comparison(s.mean, s.low, s.high, float(p))
