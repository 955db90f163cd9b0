"""The scripts under scripts/ run and print what they promise."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_claims_script_confirms_every_claim():
    proc = subprocess.run(
        [sys.executable, "scripts/claims.py", "all"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    verdicts = [line for line in proc.stdout.splitlines() if line.startswith("claim ")]
    assert len(verdicts) == 5 and all(v.endswith(": CONFIRMED") for v in verdicts), proc.stdout[-3000:]
    assert proc.returncode == 0


def test_bench_script_prints_both_loops_and_their_ratio():
    args = ["--steps-mlp", "20", "--steps-cnn", "6", "--warmup", "2", "--trials", "1", "--batch", "32"]
    proc = subprocess.run(
        [sys.executable, "scripts/bench.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("mlp", "cnn"))]
    assert len(rows) == 2 and all(0.05 < float(r[-1]) < 20 for r in rows)
