"""What a tie can and cannot say: the power of the report's own test to see a true difference δ, the
smallest δ it sees at 80% power ("could detect"), and the seeds per arm δ would need.

The test rejects when |D| > c·κ·√max(S², floor), D ~ N(δ, σ²κ²), κ² = 1/n + 1/n₀, S² ~ σ²χ²_df/df:
the power is that probability averaged over S², with c the Dunnett (or Tukey) critical value of the
family's level. statsmodels' power classes assume an unfloored two-sample t with df = 2n−2 and one
comparison; the pooled df and the family's critical value are what decide here, so the probability is
written out with scipy's distributions.
"""

import math

import numpy as np
from scipy import optimize, special

from ablation_lab.report.family import dunnett_critical, s_nodes, tukey_critical

POWER = 0.8


def power(delta: float, sigma: float, n: int, n0: int, df: int, crit: float, floor: float = 0.0) -> float:
    """P(the test calls a true difference `delta` beyond noise), seed std `sigma` of one run."""
    sigma = max(sigma, math.sqrt(floor), 1e-12)
    kappa = math.sqrt(1 / n + 1 / n0)
    s, weights = s_nodes(df)
    threshold = crit * kappa * np.sqrt(np.maximum((sigma * s) ** 2, floor))
    sd = sigma * kappa
    return float(weights @ (special.ndtr((delta - threshold) / sd) + special.ndtr((-delta - threshold) / sd)))


def detectable(sigma: float, n: int, n0: int, df: int, crit: float, floor: float = 0.0) -> float:
    """The smallest difference seen at 80% power by this design."""
    return float(optimize.brentq(lambda d: power(d, sigma, n, n0, df, crit, floor) - POWER, 0.0, 10.0))


def critical(kind: str, arms: int, n: int, level: float) -> float:
    """The family's critical value for `arms` arms of n seeds each: against the control (Dunnett)
    or between the two arms of any pair (Tukey)."""
    df = arms * (n - 1)
    if kind == "control":
        return dunnett_critical(tuple([n] * (arms - 1)), n, df, level)
    return tukey_critical(arms, df, level)


def seeds_needed(
    delta: float, sigma: float, arms: int, level: float, kind: str, floor: float = 0.0, most: int = 200
) -> int | None:
    """The fewest seeds per arm (each arm alike) that see `delta` at 80% power; None beyond `most`."""

    def enough(n: int) -> bool:
        df = arms * (n - 1)
        return power(delta, sigma, n, n, df, critical(kind, arms, n, level), floor) >= POWER

    if not enough(most):
        return None
    low, high = 1, most  # enough(high) holds, enough(low) does not (one seed has no noise estimate)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if enough(mid) else (mid, high)
    return high
