"""DDP end to end on CPU, through the real CLI: two gloo processes against one, a DDP run killed
(kill -9 of its process group) and resumed, a sweep of DDP runs; and bf16-mixed on the default
config. The gloo timeout is 60 s, so a rank left waiting fails the test instead of hanging it."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
# 1024 training images: 16 batches of 64 a epoch for one process, 8 for each of two
COMMON = [
    "trainer.accelerator=cpu",
    "callbacks.progress_bar.refresh_rate=0",
    "data.train_size=1024",
    "regularization=dropout",  # random masks: each rank's generator matters for the resume
    "threads=1",
]
EPOCHS = ["trainer.max_epochs=8"]
DDP = ["trainer=ddp", "ddp_timeout_s=60"]
VAL_IMAGES, TEST_IMAGES = 270, 359  # digits' validation and test splits


def ablation_train(cwd: Path, *args: str, background: bool = False):
    command = [str(BIN / "ablation-train"), *args]
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "OMP_NUM_THREADS": "1"}
    if background:  # its own process group, so that the test can kill all of it
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def record(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def steps_logged(log: Path) -> tuple[int, int]:
    """(rank, optimizer steps) from a rank's log line `rank R: S optimizer steps in E epochs`."""
    rank, steps = re.search(r"rank (\d+): (\d+) optimizer steps", log.read_text()).groups()
    return int(rank), int(steps)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, tuple[Path, subprocess.CompletedProcess]]:
    """The same run (seed 0) by one process and by two gloo processes: {processes: (folder, proc)}."""
    out = {}
    for processes, extra in ((1, []), (2, DDP)):
        cwd = tmp_path_factory.mktemp(f"processes{processes}")
        out[processes] = cwd, ablation_train(cwd, *COMMON, *EPOCHS, *extra)
    return out


def test_two_gloo_processes_finish_one_run_in_one_folder_written_once(runs):
    cwd, proc = runs[2]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in (cwd / "logs").iterdir()] == ["runs"]
    (run_dir,) = (cwd / "logs" / "runs").iterdir()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("run: ")]
    assert len(lines) == 1 and lines[0].startswith(f"run: {run_dir}  ")  # printed once, by rank 0
    assert (run_dir / "train_ddp_process_1.log").is_file() and (run_dir / ".hydra" / "config.yaml").is_file()
    writers = {p.name.split(".")[-2] for p in run_dir.glob("events.out.tfevents.*")}
    assert len(writers) == 1  # one process (rank 0) wrote every event file
    done = record(run_dir)
    assert done["status"] == "done" and done["world_size"] == 2 and done["precision"] == "32-true"
    assert done["batch_size"] == {"per_device": 64, "effective": 128}


def test_each_rank_takes_half_the_steps_of_one_process(runs):
    (one,), (two,) = ((runs[n][0] / "logs" / "runs").iterdir() for n in (1, 2))
    assert record(one)["steps"] == 8 * 16 and record(two)["steps"] == 8 * 8
    assert steps_logged(two / "train.log") == (0, 64)
    assert steps_logged(two / "train_ddp_process_1.log") == (1, 64)


def test_every_validation_and_test_image_is_counted_once_and_accuracy_stays(runs, tmp_path):
    (one,), (two,) = ((runs[n][0] / "logs" / "runs").iterdir() for n in (1, 2))
    single, ddp = record(one)["metrics"], record(two)["metrics"]
    for metrics in (single, ddp):
        assert metrics["val/images"] == VAL_IMAGES and metrics["test/images"] == TEST_IMAGES
    assert ddp["test/acc"] > 0.85 and abs(ddp["test/acc"] - single["test/acc"]) < 0.06
    evaluated = _evaluate(record(two)["best_checkpoint"], tmp_path)  # one process, the whole test split
    assert evaluated["test/acc"] == pytest.approx(ddp["test/acc"], abs=1e-7)


def _evaluate(ckpt: str, out: Path) -> dict:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from ablation_lab.eval import evaluate
    from ablation_lab.utils.cli import CONF_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("eval", overrides=[f"ckpt_path='{ckpt}'", f"paths.output_dir={out}", "accelerator=cpu"])
    GlobalHydra.instance().clear()
    return evaluate(cfg)


def test_a_ddp_run_killed_with_its_process_group_resumes_where_it_stopped(runs, tmp_path):
    proc = ablation_train(tmp_path, *COMMON, *EPOCHS, *DDP, background=True)
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob("logs/runs/*/checkpoints/last.ckpt")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    (run_dir,) = (tmp_path / "logs" / "runs").iterdir()
    last = run_dir / "checkpoints" / "last.ckpt"
    killed = torch.load(last, weights_only=True)
    assert record(run_dir)["status"] == "running" and killed["epoch"] < 7, "the run ended before the kill"
    rng = killed["rng_states"]["cpu"]
    assert rng.shape[0] == 2 and not torch.equal(rng[0], rng[1])  # each rank's own generator state
    resumed = ablation_train(tmp_path, f"ckpt_path={last}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [p.name for p in (tmp_path / "logs" / "runs").iterdir()] == [run_dir.name]
    done = record(run_dir)
    assert done["status"] == "done" and done["epochs"] == 8 and done["steps"] == 64
    (uninterrupted,) = (runs[2][0] / "logs" / "runs").iterdir()
    expected = record(uninterrupted)["metrics"]
    for key in ("val/acc_best", "test/acc", "test/loss"):
        assert done["metrics"][key] == pytest.approx(expected[key], abs=1e-6), key


def test_a_sweep_of_ddp_runs_keeps_one_folder_and_each_cell_one_run(tmp_path):
    proc = ablation_train(tmp_path, "-m", "seed=0,1", *COMMON, "trainer.max_epochs=1", *DDP)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in (tmp_path / "logs").iterdir()] == ["multiruns"]
    (sweep,) = (tmp_path / "logs" / "multiruns").iterdir()
    cells = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name[:3].isdigit())
    assert [c.name for c in cells] == ["000_seed=0", "001_seed=1"]
    for cell in cells:
        done = record(cell)
        assert done["status"] == "done" and done["world_size"] == 2 and done["steps"] == 8
        assert steps_logged(cell / "train_ddp_process_1.log") == (1, 8)
        assert sorted(p.name for p in (cell / "checkpoints").iterdir()) == ["last.ckpt"]  # a cell's policy
    assert len(list(sweep.glob("*.hparams"))) == 1 and (sweep / "report.md").is_file()


def test_bf16_mixed_trains_the_default_config_on_cpu(make_cfg, tmp_path):
    from ablation_lab.train import train

    final = train(make_cfg("trainer.precision=bf16-mixed", fast=False))
    done = record(tmp_path)
    assert done["status"] == "done" and done["precision"] == "bf16-mixed" and final["test/acc"] > 0.85
