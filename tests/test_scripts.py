"""The scripts under scripts/ run and print what they promise."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run_script(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """scripts/<script> with these arguments, run from the checkout as a user runs it."""
    command = [sys.executable, f"scripts/{script}", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_claims_script_gives_a_verdict_for_each_of_the_eight_claims():
    proc = run_script("claims.py", "all", "--budget", "quick", timeout=900)
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
    proc = run_script("bench.py", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("mlp", "cnn"))]
    assert len(rows) == 3 and all(0.05 < float(r[-2]) < 20 for r in rows), proc.stdout  # mlp, cnn, tiny
    assert all(abs(float(r[-1])) < 1e3 for r in rows)  # ms the lab adds per step: a number
    assert proc.stdout.count("+ diagnostics, once per run") == 2  # not for tiny, which stands for no run


FAKE_TEMPLATE = '''
"""A stand-in for lightning-hydra-template's src/train.py: its MNIST example's shape, read from the
same idx files, trained by Lightning with a batch of 128."""
import sys
import lightning as L
import torch
from torch.utils.data import DataLoader
from torchvision.datasets import MNIST
from torchvision.transforms import ToTensor

args = dict(a.split("=", 1) for a in sys.argv[1:])
data = MNIST(args["data.data_dir"], train=True, transform=ToTensor())
net = torch.nn.Sequential(
    torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
)


class Module(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = net

    def training_step(self, batch, i):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters())


trainer = L.Trainer(
    max_epochs=int(args["trainer.max_epochs"]), accelerator="cpu", logger=False,
    enable_checkpointing=False, enable_progress_bar=False, default_root_dir=args["hydra.run.dir"],
)
trainer.fit(Module(), DataLoader(data, batch_size=128, shuffle=True))
'''


def test_the_template_comparison_times_both_sides_in_interleaved_rounds(tmp_path):
    """scripts/vs_template.py against a stand-in template: its hook times both processes' training
    loops from inside, and the table pairs the rounds."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(FAKE_TEMPLATE)
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/vs_template.py",
            "--template",
            str(tmp_path),
            "--template-python",
            sys.executable,
            "--rounds",
            "2",
            "--epochs",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {line[:26].strip(): line[26:].split() for line in proc.stdout.splitlines()[1:]}
    assert set(rows) == {"training images/s", "first step, s"}, proc.stdout
    for ours, theirs, ratio, *rest in rows.values():
        assert float(ours) > 0 and float(theirs) > 0 and float(ratio) > 0 and "2 pairs)" in " ".join(rest)
    assert 1.0 < float(rows["first step, s"][0]) < 120  # seconds from the process's start


def test_the_template_comparison_refuses_a_folder_without_the_template():
    proc = run_script("vs_template.py", "--template", "/nonexistent", timeout=60)
    assert proc.returncode == 2 and "no src/train.py there" in proc.stderr.strip().splitlines()[-1]


def test_the_lightning_floor_script_gives_the_bare_and_the_labs_cost_per_step():
    args = ["--cases", "tiny", "--steps", "32", "--warmup", "2", "--trials", "1", "--batch", "32"]
    proc = run_script("lightning_floor.py", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 3, lines  # the setting, the header and one row: nothing of Lightning's between
    rows = [line.split()[-5:] for line in lines if line.startswith("mlp")]
    assert len(rows) == 1, proc.stdout
    plain_ms, bare_ms, bare_ratio, lab_ms, lab_ratio = map(float, rows[0])
    assert plain_ms > 0 and abs(bare_ms) < 1e3 and abs(lab_ms) < 1e3
    assert 0.05 < bare_ratio < 20 and 0.05 < lab_ratio < 20


def test_the_lightning_floor_script_refuses_an_unknown_case():
    proc = run_script("lightning_floor.py", "--cases", "tiny,mpl", timeout=120)
    assert proc.returncode == 2
    assert "'mpl' is not a case; choose from tiny, mlp, cnn, resnet20" in proc.stderr.splitlines()[-1]
