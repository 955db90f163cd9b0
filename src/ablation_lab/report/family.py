"""Comparisons chosen from the data, made honest: every arm against the control by Dunnett's test,
every pair of arms by Tukey's HSD (Tukey–Kramer for unequal seeds), both on the pooled within-arm
variance floored at the evaluation noise (stats.floor_variance).

The statistics are scipy.stats.dunnett's and scipy.stats.tukey_hsd's (tests check the p-values
agree); they are compared here with each test's critical value because those functions take raw
samples and cannot take a floored variance, and because a simulation of thousands of sweeps needs a
critical value once per design rather than an integral per sweep. Dunnett's critical value is exact:
the arms-vs-control statistics have product correlation λᵢλⱼ (λᵢ² = nᵢ/(nᵢ+n₀)), so the
multivariate-t probability is a two-dimensional integral (over the shared control term and the
variance estimate) instead of a Monte-Carlo one.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

from ablation_lab.report.stats import floor_variance

_W, _WW = np.polynomial.hermite_e.hermegauss(64)  # ∫ φ(w) f(w) dw ≈ Σ f(wᵢ) wwᵢ / √(2π)
_WW = _WW / math.sqrt(2 * math.pi)
_V = (np.arange(256) + 0.5) / 256
_Q, _QW = _V**2, 2 * _V / 256  # quantiles of S/σ's distribution, denser near 0 (u = v², du = 2v dv)


def s_nodes(df: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[f(S/σ)], S² a variance estimate with `df` degrees of freedom
    (S/σ = √(χ²_df/df)); accurate to ~1e-6 on the tail probabilities used here."""
    return np.sqrt(stats.chi2.ppf(_Q, df) / df), _QW


@dataclass(frozen=True)
class Pooled:
    """Arms' means and seed counts, and the variance of one run used for every comparison:
    the pooled within-arm variance (df = runs − arms), or the evaluation-noise floor if larger."""

    means: np.ndarray
    ns: np.ndarray
    var: float
    df: int
    floored: bool


def pooled(groups: list[list[float]], n_test: int | None) -> Pooled:
    ns = np.array([len(g) for g in groups])
    means = np.array([np.mean(g) if len(g) else math.nan for g in groups])
    df = int(ns.sum() - len(groups))
    ss = sum(float(np.sum((np.asarray(g) - m) ** 2)) for g, m in zip(groups, means, strict=True) if len(g))
    seeds = ss / df if df > 0 else math.nan
    floor = float(np.average([floor_variance(float(m), n_test) for m in means], weights=ns))
    var = max(seeds, floor) if df > 0 else math.nan
    return Pooled(means, ns, var if var > 0 else math.nan, df, df > 0 and floor > seeds)


def _given_s(c: float, lam: np.ndarray, s: np.ndarray) -> np.ndarray:
    """P(max |Zᵢ| ≤ c·s) for standard normals with correlation λᵢλⱼ, for each s."""
    s = np.asarray(s, dtype=float)[..., None, None]
    root = np.sqrt(1 - lam**2)
    inside = special.ndtr((c * s - lam * _W[:, None]) / root) - special.ndtr(
        (-c * s - lam * _W[:, None]) / root
    )
    return np.prod(inside, axis=-1) @ _WW


def _no_exceed(c: float, lam: np.ndarray, df: int) -> float:
    """P(max |Tᵢ| ≤ c) for t statistics with correlation λᵢλⱼ and `df` degrees of freedom."""
    if len(lam) == 1:
        return float(1 - 2 * stats.t.sf(c, df))
    s, weights = s_nodes(df)
    return float(weights @ _given_s(c, lam, s))


def _lambdas(ns: tuple[int, ...], n0: int) -> np.ndarray:
    return np.sqrt(np.array(ns) / (np.array(ns) + n0))


@lru_cache(maxsize=512)
def dunnett_critical(ns: tuple[int, ...], n0: int, df: int, level: float) -> float:
    """c with P(max |Tᵢ| ≤ c) = level, for arms of `ns` runs against a control of `n0` runs."""
    if len(ns) == 1:
        return float(stats.t.ppf(0.5 + level / 2, df))
    lam = _lambdas(ns, n0)
    return float(optimize.brentq(lambda c: _no_exceed(c, lam, df) - level, 0.5, 60.0, xtol=1e-6))


@lru_cache(maxsize=512)
def tukey_critical(k: int, df: int, level: float) -> float:
    """The studentized range quantile over √2: the critical |t| of every pair of k arms."""
    return float(stats.studentized_range.ppf(level, k, df)) / math.sqrt(2)


@dataclass(frozen=True)
class Pair:
    """Arm `first` − arm `second`: difference, simultaneous interval at the family's level, the
    test's adjusted p (None when not computed or not testable) and whether 0 is outside the interval."""

    first: int
    second: int
    diff: float
    low: float | None
    high: float | None
    p: float | None
    beyond: bool


def _pair(pool: Pooled, i: int, j: int, crit: float, p: float | None) -> Pair:
    diff = float(pool.means[i] - pool.means[j])
    if math.isnan(pool.var):
        return Pair(i, j, diff, None, None, None, False)
    half = crit * math.sqrt(pool.var * (1 / pool.ns[i] + 1 / pool.ns[j]))
    return Pair(i, j, diff, diff - half, diff + half, p, abs(diff) > half)


def _t(pool: Pooled, i: int, j: int) -> float:
    return float(pool.means[i] - pool.means[j]) / math.sqrt(pool.var * (1 / pool.ns[i] + 1 / pool.ns[j]))


def vs_control(pool: Pooled, control: int, level: float, with_p: bool = True) -> list[Pair]:
    """Dunnett's test: each arm − the control, simultaneous at `level` (two-sided)."""
    arms = [i for i in range(len(pool.ns)) if i != control]
    if math.isnan(pool.var):
        return [_pair(pool, i, control, math.nan, None) for i in arms]
    ns = tuple(int(pool.ns[i]) for i in arms)
    crit = dunnett_critical(ns, int(pool.ns[control]), pool.df, level)
    lam = _lambdas(ns, int(pool.ns[control]))
    out = []
    for i in arms:
        p = 1 - _no_exceed(abs(_t(pool, i, control)), lam, pool.df) if with_p else None
        out.append(_pair(pool, i, control, crit, None if p is None else min(1.0, max(0.0, p))))
    return out


def all_pairs(pool: Pooled, level: float, with_p: bool = True) -> list[Pair]:
    """Tukey's HSD: every pair (higher mean first), simultaneous at `level`."""
    k = len(pool.ns)
    order = sorted(range(k), key=lambda i: -pool.means[i])
    pairs = [(order[a], order[b]) for a in range(k) for b in range(a + 1, k)]
    if math.isnan(pool.var):
        return [_pair(pool, i, j, math.nan, None) for i, j in pairs]
    crit = tukey_critical(k, pool.df, level)
    out = []
    for i, j in pairs:
        p = None
        if with_p:
            p = float(stats.studentized_range.sf(abs(_t(pool, i, j)) * math.sqrt(2), k, pool.df))
        out.append(_pair(pool, i, j, crit, p))
    return out
