"""Statistics over seeds that never claim more certainty than the test set allows.

Seeds are few (2–5), so intervals use Student's t. An accuracy measured on n test images carries
evaluation noise of variance at least acc(1−acc)/n whatever the seeds say: two seeds that agree
exactly (common with discrete accuracies) say nothing about the noise, so every variance used here
is floored at that value and no interval has zero width.
"""

import math
import statistics
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


def floor_variance(acc: float, n_test: int | None) -> float:
    """The smallest variance of one run's accuracy on `n_test` images: acc(1−acc)/n (binomial),
    with acc kept within [1/n, 1−1/n] so that a perfect score still carries noise; 0 when unknown."""
    if not n_test or not math.isfinite(acc):
        return 0.0
    p = min(max(acc, 1.0 / n_test), 1.0 - 1.0 / n_test)
    return p * (1.0 - p) / n_test


@dataclass(frozen=True)
class Summary:
    """Mean, sample std and the 95% interval of the mean over n seeds (interval None when n < 2);
    `floored`: the interval uses the evaluation-noise floor because the seeds spread less."""

    n: int
    mean: float
    std: float
    low: float | None
    high: float | None
    floored: bool = False


def summarize(values: list[float], n_test: int | None = None) -> Summary:
    n = len(values)
    if n == 0:
        return Summary(0, math.nan, math.nan, None, None)
    mean = statistics.fmean(values)
    if n < 2:
        return Summary(1, mean, 0.0, None, None)
    std = statistics.stdev(values)
    floor = floor_variance(mean, n_test)
    scale = math.sqrt(max(std**2, floor))
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * scale / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half, floored=floor > std**2)


def prob_better(a: list[float], b: list[float]) -> float | None:
    """P(A > B): the share of (a, b) pairs of runs in which a wins, ties counting half (Agarwal et
    al. 2021's probability of improvement; = Mann–Whitney U / (n·m))."""
    if not a or not b:
        return None
    x, y = np.asarray(a)[:, None], np.asarray(b)[None, :]
    return float(np.mean((x > y) + 0.5 * (x == y)))


@dataclass(frozen=True)
class Comparison:
    """a − b: the difference of means, its interval and a two-sided p-value (None: too few runs)."""

    diff: float
    low: float | None
    high: float | None
    p: float | None


def welch(a: list[float], b: list[float], n_test: int | None = None, level: float = LEVEL) -> Comparison:
    """Welch's t-test of mean(a) − mean(b) (scipy's ttest_ind), each arm's variance floored at the
    evaluation noise, so that zero spread never gives p = 0; p None when an arm has < 2 runs."""
    diff = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2:
        return Comparison(diff, None, None, None)
    sds = []
    for x in (a, b):
        var = max(statistics.variance(x), floor_variance(statistics.fmean(x), n_test))
        sds.append(math.sqrt(var) if var > 0 else math.nan)
    if any(math.isnan(s) for s in sds):  # no spread and no floor known: no test is possible
        return Comparison(diff, None, None, None)
    t = stats.ttest_ind_from_stats(
        statistics.fmean(a), sds[0], len(a), statistics.fmean(b), sds[1], len(b), equal_var=False
    )
    va, vb = sds[0] ** 2 / len(a), sds[1] ** 2 / len(b)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(va + vb)
    return Comparison(diff, diff - half, diff + half, float(t.pvalue))


def holm(pvalues: list[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values, valid for pre-specified tests; ones chosen from the
    data go through Dunnett's or Tukey's test instead (family.py). (statsmodels' multipletests
    gives the same numbers but runs a garbage collection on every call: 0.4 s, too slow to simulate.)"""
    order = np.argsort(pvalues)
    adjusted = np.maximum.accumulate((len(pvalues) - np.arange(len(pvalues))) * np.asarray(pvalues)[order])
    out = np.empty(len(pvalues))
    out[order] = np.minimum(adjusted, 1.0)
    return [float(p) for p in out]
