"""The command line a researcher lives in: the project's --help, shell completion, a quiet console,
CSV logs, the checkpoint policy, threads, and a failed download that leaves nothing behind."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from ablation_lab.sweep import threads
from ablation_lab.sweep.threads import busy_cores, cores, resolve_threads
from ablation_lab.train import train

BIN = Path(sys.executable).parent


def cli(cwd: Path, tool: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "HYDRA_FULL_ERROR": "0", **env}
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_help_shows_the_axes_their_options_and_examples_not_internal_groups(tmp_path):
    proc = cli(tmp_path, "ablation-train", "--help")
    assert proc.returncode == 0
    for line in ("activation      non-linearity", "[relu]", "hparams_search", "hydra/launcher", "Examples:"):
        assert line in proc.stdout, line
    assert "case" not in proc.stdout and "paths:" not in proc.stdout and not (tmp_path / "logs").exists()


@pytest.mark.slow
def test_shell_completion_installs_and_completes(tmp_path):
    proc = cli(tmp_path, "ablation-train", "-sc", "install=bash")
    assert proc.returncode == 0 and "hydra_bash_completion" in proc.stdout
    complete = 'COMP_LINE="ablation-train activation=s"; COMP_POINT=${#COMP_LINE}; COMP_CWORD=1'
    script = f'{proc.stdout}\n{complete}\nhydra_bash_completion; echo "${{COMPREPLY[@]}}"'
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
    )
    assert done.stdout.split() == ["activation=selu", "activation=sigmoid", "activation=swish"]


@pytest.mark.slow
def test_a_sweeps_console_is_one_tree_and_one_line_per_job(tmp_path):
    proc = cli(
        tmp_path,
        "ablation-train",
        "-m",
        "activation=relu,tanh",
        "seed=0,1",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.count("\nconfig\n") + proc.stderr.startswith("config\n") == 1
    assert proc.stdout.count("\nrun: ") + proc.stdout.startswith("run: ") == 4
    console = proc.stdout + proc.stderr
    for noise in ("Warning", "💡", "GPU available", "it/s]", "Total params"):
        assert noise not in console, noise
    logs = list((tmp_path / "logs" / "multiruns").glob("*/000_*/train.log"))
    assert "GPU available" in logs[0].read_text()  # Lightning's messages are in the run's log


@pytest.mark.slow
def test_a_failed_download_is_refused_before_anything_and_leaves_nothing(tmp_path):
    unreachable = "http://127.0.0.1:9"  # no download can happen, with or without a network
    proc = cli(
        tmp_path,
        "ablation-train",
        "data=fashion_mnist",
        "data.download=true",
        "data.root=here/data",
        http_proxy=unreachable,
        https_proxy=unreachable,
        HTTP_PROXY=unreachable,
        HTTPS_PROXY=unreachable,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ablation-train: error: could not download FashionMNIST")
    assert list(tmp_path.iterdir()) == []  # no here/, no data/, no logs/


def test_csv_logger_alone_and_beside_tensorboard(make_cfg, tmp_path):
    train(make_cfg("logger=[tensorboard,csv]"))
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val/acc", "val/acc_best", "train/loss"} <= set(header)
    assert list(tmp_path.glob("events.out.tfevents.*"))


@pytest.mark.parametrize(
    ("policy", "files"),
    [
        ("auto", {"best", "last"}),
        ("both", {"best", "last"}),
        ("best", {"best"}),
        ("last", {"last"}),
        ("none", set()),
    ],
)
def test_the_checkpoint_policy_writes_what_it_says_and_tests_the_best_weights(
    make_cfg, tmp_path, policy, files
):
    # threads pinned: threads=auto picks by load, and different thread counts train to different weights
    metrics = train(make_cfg(f"checkpoints={policy}", "trainer.max_epochs=3", "threads=1", fast=False))
    folder = tmp_path / "checkpoints"
    written = (
        {p.name.split("-")[0].removesuffix(".ckpt") for p in folder.iterdir()} if folder.exists() else set()
    )
    assert written == files
    if "last" in files:  # a finished run's last.ckpt holds its weights, not the optimizer's state
        last = torch.load(folder / "last.ckpt", weights_only=True)
        assert "state_dict" in last and "optimizer_states" not in last
    reference = train(make_cfg("checkpoints=both", "trainer.max_epochs=3", "threads=1", fast=False))
    assert metrics["test/acc"] == reference["test/acc"]  # the same best weights, on disk or in memory


def test_threads_follow_the_knob_and_the_launchers_share():
    assert resolve_threads(3, None)[0] == 3
    joblib = OmegaConf.create(
        {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}
    )
    assert resolve_threads("auto", joblib)[0] == max(1, cores() // 2)
    slurm = OmegaConf.create(
        {
            "_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
            "cpus_per_task": 4,
        }
    )
    assert resolve_threads("auto", slurm) == (4, "the cores the launcher gives each job")
    n, why = resolve_threads("auto", None)
    assert 1 <= n <= cores() and "busy with other work" in why
    assert 0.0 <= busy_cores() <= cores() + 0.5


def _fake_machine(monkeypatch, samples):
    """threads.py reads (monotonic s, all ticks, idle ticks, own ticks) from `samples`, in turn;
    returns the sleeps it asked for."""
    feed, slept = list(samples), []
    monkeypatch.setattr(threads, "_sample", lambda: feed.pop(0))
    monkeypatch.setattr(threads, "_now", lambda: feed[0][0])  # the time of the next sample
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    monkeypatch.setattr(threads, "cores", lambda: 4)
    return slept


def test_busy_cores_leave_out_this_process_and_need_no_wait_after_start_up(monkeypatch):
    # 4 cores, 3 s of start-up = 1200 ticks: 500 idle, 600 of them ours (the checks, imports)
    slept = _fake_machine(monkeypatch, [(10.0, 0, 0, 0), (13.0, 1200, 500, 600)])
    threads.open_window()
    assert threads.busy_cores() == pytest.approx(4 * 100 / 1200)  # others: 1200 - 500 - 600 ticks
    assert slept == [] and threads._WINDOW == []  # read once: the window is closed


def test_busy_cores_wait_out_a_short_window_and_never_go_negative(monkeypatch):
    slept = _fake_machine(
        monkeypatch, [(10.0, 0, 0, 0), (10.02, 40, 0, 60), (5.0, 0, 0, 0), (5.0, 40, 40, 0)]
    )
    threads.open_window()
    assert threads.busy_cores() == 0.0  # our own ticks exceed the busy ones (rounding): none busy
    assert slept == [pytest.approx(0.08)]  # the rest of 0.1 s
    assert threads.busy_cores() == 0.0 and slept[-1] == pytest.approx(0.1)  # no window: 0.1 s
