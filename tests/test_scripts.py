"""The scripts under scripts/ run and print what they promise."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_claims_script_gives_a_verdict_for_each_of_the_eight_claims():
    proc = subprocess.run(
        [sys.executable, "scripts/claims.py", "all", "--budget", "quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    verdicts = dict(
        line.removeprefix("claim ").split(": ", 1)
        for line in proc.stdout.splitlines()
        if line.startswith("claim ")
    )
    claims = [
        "zero_init",
        "depth_std",
        "normal_sigma",
        "selu",
        "relu_vs_sigmoid",
        "fixup",
        "bn_before_dropout",
    ]
    assert list(verdicts) == [*claims, "small_data"], proc.stdout[-3000:]
    assert all(v.startswith(("CONFIRMED", "NOT CONFIRMED")) for v in verdicts.values())
    # measured without training to a budget: these hold on any machine
    assert all(verdicts[c] == "CONFIRMED" for c in ("zero_init", "depth_std", "normal_sigma", "selu"))


def test_bench_script_prints_both_loops_and_their_ratio():
    args = ["--steps-mlp", "22", "--steps-cnn", "22", "--warmup", "2", "--trials", "1", "--batch", "32"]
    proc = subprocess.run(
        [sys.executable, "scripts/bench.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("mlp", "cnn"))]
    assert len(rows) == 3 and all(0.05 < float(r[-2]) < 20 for r in rows), proc.stdout  # mlp, cnn, tiny
    assert all(abs(float(r[-1])) < 1e3 for r in rows)  # ms the lab adds per step: a number
    assert proc.stdout.count("+ diagnostics, once per run") == 2  # not for tiny, which stands for no run
