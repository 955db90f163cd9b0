"""Simulated sweeps whose truth is known, through the report's own decision functions (the
generator of scripts/verdict_simulation.py, which prints the full table): no more than 5% of null
sweeps crown any winner, and a planted effect is detected at the rate the power statement predicts.
Fixed random seeds: the numbers are the same on every run. Fast (~20 s): no training."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from verdict_simulation import HUGE, N_TEST, After, detection, null_share  # noqa: E402

SIMS = 100
ALPHA = 0.05


@pytest.fixture(scope="module")
def report():
    return After()


@pytest.mark.parametrize("n_test", [N_TEST, HUGE], ids=["359 test images", "negligible evaluation noise"])
def test_null_sweeps_crown_a_false_winner_at_most_5_percent_of_the_time(report, n_test):
    """2, 3 and 4 two-level axes × 2–5 seeds, every run from one distribution."""
    shares = {
        (axes, seeds): null_share(report, axes, seeds, SIMS, n_test, seed=axes * 10 + seeds)
        for axes in (2, 3, 4)
        for seeds in (2, 3, 4, 5)
    }
    pooled = np.mean(list(shares.values()))
    assert pooled <= ALPHA + 2 * np.sqrt(ALPHA * (1 - ALPHA) / (SIMS * len(shares))), shares
    assert max(shares.values()) <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / SIMS), shares


@pytest.mark.parametrize(
    ("delta", "seeds", "n_test"),
    [(0.005, 3, N_TEST), (0.01, 3, N_TEST), (0.01, 5, N_TEST), (0.008, 3, HUGE), (0.01, 3, HUGE)],
)
def test_a_planted_effect_is_detected_at_the_rate_the_power_statement_predicts(report, delta, seeds, n_test):
    """One of 12 cells is better by δ; detected = called Winner over the control (cell 0)."""
    rate, predicted = detection(report, delta, 400, seeds=seeds, n_test=n_test, seed=3)
    assert rate == pytest.approx(predicted, abs=0.05)
