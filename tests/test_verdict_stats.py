"""The report's statistics against the libraries they stand for (scipy's Dunnett, Tukey HSD, Welch,
Student intervals; statsmodels' ANOVA and Holm), and the evaluation-noise floor that keeps zero
spread from ever giving certainty. Fast: no training."""

import numpy as np
import pytest
from scipy import stats

from ablation_lab.report import anova, family, power
from ablation_lab.report.stats import floor_variance, holm, prob_better, summarize, welch

RNG = np.random.default_rng(7)
GROUPS = [list(RNG.normal(0.97, 0.006, n)) for n in (3, 3, 4, 3, 5)]


def test_dunnett_p_values_and_intervals_are_scipys():
    pool = family.pooled(GROUPS, None)
    ours = family.vs_control(pool, 0, 0.95)
    ref = stats.dunnett(*[np.array(g) for g in GROUPS[1:]], control=np.array(GROUPS[0]), random_state=0)
    ci = ref.confidence_interval(0.95)
    assert [p.p for p in ours] == pytest.approx(list(ref.pvalue), abs=2e-3)
    assert [p.low for p in ours] == pytest.approx(list(ci.low), abs=1e-5)
    assert [p.high for p in ours] == pytest.approx(list(ci.high), abs=1e-5)


def test_tukey_p_values_and_intervals_are_scipys():
    pool = family.pooled(GROUPS, None)
    ref = stats.tukey_hsd(*GROUPS)
    ci = ref.confidence_interval(0.95)
    for pair in family.all_pairs(pool, 0.95):
        i, j = pair.first, pair.second
        assert pair.p == pytest.approx(ref.pvalue[i, j], abs=1e-6)
        assert (pair.low, pair.high) == (pytest.approx(ci.low[i, j]), pytest.approx(ci.high[i, j]))
        assert pair.beyond == (ref.pvalue[i, j] < 0.05)


def test_factorial_anova_is_statsmodels_anova_lm():
    pd = pytest.importorskip("pandas")
    smf = pytest.importorskip("statsmodels.formula.api")
    from statsmodels.stats.anova import anova_lm

    levels = [{"a": a, "b": b, "c": c} for a in "xyz" for b in "pq" for c in "uv" for _ in range(3)]
    y = list(RNG.normal(size=len(levels)))
    frame = pd.DataFrame(levels).assign(y=y)
    ref = anova_lm(smf.ols("y ~ (C(a) + C(b) + C(c))**2", frame).fit(), typ=2)
    rows = {
        "a": "C(a)",
        "b": "C(b)",
        "c": "C(c)",
        "a × b": "C(a):C(b)",
        "a × c": "C(a):C(c)",
        "b × c": "C(b):C(c)",
    }
    effects = {e.name: e for e in anova.factorial(y, levels, ["a", "b", "c"], None)}
    for name, row in rows.items():
        assert effects[name].f == pytest.approx(ref.loc[row, "F"])
        assert effects[name].p == pytest.approx(ref.loc[row, "PR(>F)"])


def test_holm_is_statsmodels_multipletests():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.2, 0.001]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def test_welch_and_intervals_match_scipy_when_the_seeds_spread_more_than_the_floor():
    a, b = [0.91, 0.93, 0.92, 0.95], [0.88, 0.90, 0.91]
    t = stats.ttest_ind(a, b, equal_var=False)
    c = welch(a, b, n_test=100_000)
    assert c.p == pytest.approx(t.pvalue) and c.diff == pytest.approx(np.mean(a) - np.mean(b))
    ci = t.confidence_interval(0.95)
    assert (c.low, c.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    s = summarize(a, n_test=100_000)
    low, high = stats.t.interval(0.95, 3, loc=s.mean, scale=stats.sem(a))
    assert (s.low, s.high) == (pytest.approx(low), pytest.approx(high)) and not s.floored


def test_zero_spread_gives_the_floor_not_certainty():
    """Two seeds per arm, each arm's seeds identical, the arms one test image apart (the old branch
    answered p = 0 and a zero-width interval here)."""
    a, b = [346 / 359] * 2, [345 / 359] * 2
    c = welch(a, b, n_test=359)
    floor = floor_variance(np.mean(a), 359)
    assert c.p > 0.5 and c.high - c.low > 2 * np.sqrt(floor)
    s = summarize(a, n_test=359)
    assert s.floored and s.high - s.low == pytest.approx(
        2 * stats.t.ppf(0.975, 1) * np.sqrt(floor / 2), rel=1e-6
    )
    pool = family.pooled([a, b], 359)
    (pair,) = family.vs_control(pool, 1, 0.95)
    assert pool.floored and not pair.beyond and pair.p > 0.5 and pair.high > pair.low
    assert welch(a, b).p is None  # no spread and no test-set size: no test at all, never p = 0


def test_floor_variance_is_binomial_and_never_zero():
    assert floor_variance(0.9, 100) == pytest.approx(0.09 / 100)
    assert floor_variance(1.0, 100) > 0 and floor_variance(0.9, None) == 0.0


def test_probability_of_improvement_counts_ties_as_half():
    assert prob_better([0.9, 0.8], [0.85, 0.8]) == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert prob_better([0.9], [0.8]) == 1.0 and prob_better([], [0.8]) is None


def test_power_matches_a_simulation_of_the_floored_test():
    """The power formula against a direct simulation of |D| > c·κ·√max(S², floor)."""
    rng = np.random.default_rng(0)
    n, df, sigma, floor, delta = 3, 24, 0.006, 0.005**2, 0.015
    crit = family.dunnett_critical(tuple([n] * 11), n, df, 0.95)
    kappa = np.sqrt(2 / n)
    d = rng.normal(delta, sigma * kappa, 200_000)
    s2 = sigma**2 * rng.chisquare(df, 200_000) / df
    simulated = np.mean(np.abs(d) > crit * kappa * np.sqrt(np.maximum(s2, floor)))
    assert power.power(delta, sigma, n, n, df, crit, floor) == pytest.approx(simulated, abs=0.005)
    detect = power.detectable(sigma, n, n, df, crit, floor)
    assert power.power(detect, sigma, n, n, df, crit, floor) == pytest.approx(power.POWER, abs=1e-6)


def test_seeds_needed_is_the_fewest_that_reach_80_percent():
    n = power.seeds_needed(0.01, 0.006, 4, 0.95, "control")
    assert n is not None and n > 2
    for seeds, expect in ((n, True), (n - 1, False)):
        crit = power.critical("control", 4, seeds, 0.95)
        assert (power.power(0.01, 0.006, seeds, seeds, 4 * (seeds - 1), crit) >= power.POWER) == expect
