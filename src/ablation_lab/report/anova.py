"""Whether swept axes matter and interact: a factorial ANOVA with replicates (main effects and
two-way interactions, statsmodels' least squares), its residual variance floored at the evaluation
noise like every other test of the report. Only for axes that are fully crossed: pooling axes that
are not (a case study's activation and init move together) would compare arms with their partners.
statsmodels is imported only here, when a sweep has two crossed axes; its formula API and
anova_lm give the same F-tests (a test checks) but take 0.3 s per sweep through patsy and pandas,
too slow to simulate thousands of sweeps.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ablation_lab.report.stats import floor_variance


@dataclass(frozen=True)
class Effect:
    """One row of the ANOVA: an axis (main effect) or `a × b` (interaction)."""

    name: str
    axes: tuple[str, ...]
    f: float
    df: int
    df_resid: int
    p: float


def crossed(levels: list[dict[str, str]], axes: list[str]) -> bool:
    """Every combination of the axes' levels is present (each runs' levels given as a dict)."""
    seen = {tuple(lv[a] for a in axes) for lv in levels}
    sizes = [len({lv[a] for lv in levels}) for a in axes]
    return len(seen) == math.prod(sizes) and all(s > 1 for s in sizes)


def _columns(levels: list[dict[str, str]], axis: str) -> np.ndarray:
    """Sum-to-zero (effects) coding of one axis: k − 1 columns, the last level −1 in every one."""
    names = sorted({lv[axis] for lv in levels})
    out = np.zeros((len(levels), len(names) - 1))
    for row, lv in enumerate(levels):
        i = names.index(lv[axis])
        out[row] = -1.0 if i == len(names) - 1 else np.eye(len(names) - 1)[i]
    return out


def factorial(
    values: list[float], levels: list[dict[str, str]], axes: list[str], n_test: int | None
) -> list[Effect]:
    """Main effects and two-way interactions of `axes` on `values` (one per run, its levels in
    `levels`): statsmodels' OLS with effects coding, one Wald F-test per term on the floored
    residual variance (with effects coding and a full grid these are the type II/III F-tests)."""
    from statsmodels.regression.linear_model import OLS

    main = {a: _columns(levels, a) for a in axes}
    terms = [((a,), main[a]) for a in axes]
    for a, b in itertools.combinations(axes, 2):
        prod = np.einsum("ri,rj->rij", main[a], main[b]).reshape(len(values), -1)
        terms.append(((a, b), prod))
    design = np.hstack([np.ones((len(values), 1)), *[cols for _, cols in terms]])
    fit = OLS(np.asarray(values, dtype=float), design).fit()
    df_resid = int(round(fit.df_resid))
    if df_resid <= 0:
        return []
    resid = max(float(fit.ssr) / df_resid, floor_variance(float(np.mean(values)), n_test))
    if resid <= 0:
        return []
    effects, start = [], 1
    for axes_of, cols in terms:
        idx = slice(start, start + cols.shape[1])
        start += cols.shape[1]
        b, cov = fit.params[idx], fit.normalized_cov_params[idx, idx] * resid
        df = cols.shape[1]
        f = float(b @ np.linalg.solve(cov, b)) / df
        effects.append(
            Effect(" × ".join(axes_of), axes_of, f, df, df_resid, float(special.fdtrc(df, df_resid, f)))
        )
    return effects
