"""The real CLIs in a subprocess, in a temp folder: runs, sweeps, errors, evaluation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tb_events

BIN = Path(sys.executable).parent
FAST = ["trainer.max_epochs=2", "callbacks.progress_bar.refresh_rate=0", "trainer.accelerator=cpu"]
pytestmark = pytest.mark.slow


def run(cwd: Path, tool: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def tree(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")} if folder.exists() else {}


def test_single_run_writes_metrics_events_checkpoints_and_reports(tmp_path):
    proc = run(tmp_path, "ablation-train", "activation=tanh", "init=xavier_normal", *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run_dir,) = (tmp_path / "logs" / "runs").iterdir()
    assert run_dir.name.endswith("activation=tanh,init=xavier_normal,trainer.max_epochs=2")
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f"run: {run_dir}") and "val/acc_best=" in last and "test/acc=" in last
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["choices"] | {} == record["choices"] and record["choices"]["activation"] == "tanh"
    assert record["choices"]["init"] == "xavier_normal" and record["choices"]["seed"] == 0
    metrics = record["metrics"]
    for key in ("train/loss", "train/acc", "val/loss", "val/acc", "val/acc_best", "test/loss", "test/acc"):
        logged = tb_events.scalars(run_dir, key)  # what TensorBoard shows for the run
        assert metrics[key] == pytest.approx(logged[-1], rel=1e-6), key  # the record says the same
        assert metrics[key] > 0 and (metrics[key] <= 1 or key.endswith("loss")), key
    val_acc = tb_events.scalars(run_dir, "val/acc")
    assert len(val_acc) == 2 and metrics["val/acc_best"] == pytest.approx(max(val_acc))
    assert metrics["val/acc_best"] > 0.5  # tanh + Xavier learns digits in 2 epochs
    assert {p.name for p in (run_dir / "checkpoints").iterdir()} >= {"last.ckpt"}
    assert (run_dir / ".hydra" / "config.yaml").is_file() and (
        run_dir / ".hydra" / "overrides.yaml"
    ).is_file()
    assert set(torch.load(run_dir / "preprocess.pt")) == {"shift", "scale"}  # standardize's statistics


def test_two_regularizers_and_a_swept_knob_from_the_command_line(tmp_path):
    proc = run(
        tmp_path,
        "ablation-train",
        "-m",
        "regularization=[dropout,weight_decay]",
        "regularization.dropout.p=0.0,0.5",
        "trainer.max_epochs=1",
        "callbacks.progress_bar.refresh_rate=0",
        "trainer.accelerator=cpu",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (sweep,) = (tmp_path / "logs" / "multiruns").iterdir()
    runs = sorted(p.parent for p in sweep.glob("*/metrics.json"))
    ps = [tb_events.hparams(r)["regularization.dropout.p"] for r in runs]
    assert ps == [0.0, 0.5]  # numbers, so TensorBoard sorts them as numbers
    for r in runs:
        assert (
            json.loads((r / "metrics.json").read_text())["choices"]["regularization"]
            == "dropout+weight_decay"
        )


@pytest.mark.parametrize("preprocess", ["standardize", "zca_whiten"])
def test_eval_reproduces_the_test_accuracy_of_the_best_checkpoint(tmp_path, preprocess):
    assert run(tmp_path, "ablation-train", f"data.preprocess={preprocess}", *FAST).returncode == 0
    (run_dir,) = (tmp_path / "logs" / "runs").iterdir()
    record = json.loads((run_dir / "metrics.json").read_text())
    proc = run(tmp_path, "ablation-eval", f"ckpt_path={record['best_checkpoint']}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (eval_dir,) = (tmp_path / "logs" / "evals").iterdir()
    result = json.loads((eval_dir / "eval.json").read_text())
    assert result["metrics"]["test/acc"] == pytest.approx(record["metrics"]["test/acc"], abs=1e-6)
    missing = run(tmp_path, "ablation-eval", "ckpt_path=nope.ckpt")
    assert missing.returncode != 0 and "ckpt_path='nope.ckpt' is not a file" in missing.stderr


def test_a_run_folder_path_works_as_it_is_in_init_path(tmp_path):
    """Run folders are named `key=value,...`; the CLI quotes such values for Hydra."""
    assert run(tmp_path, "ablation-train", "activation=tanh", "init=xavier_normal", *FAST).returncode == 0
    (source,) = (tmp_path / "logs" / "runs").iterdir()
    assert "=" in source.name and "," in source.name
    proc = run(
        tmp_path,
        "ablation-train",
        "activation=tanh",
        "init=pretrained",
        f"init.path=logs/runs/{source.name}/checkpoints/last.ckpt",
        *FAST,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
