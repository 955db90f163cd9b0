"""Sweeps that survive real use: one folder on every launcher, the SLURM preset's sbatch script,
Optuna over intervals, failed and diverged cells recorded apart, kill -9 then resume, an
interrupted sweep resumed. The real CLI in a subprocess, in a temp folder."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf, open_dict

from ablation_lab.errors import ConfigError
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.preflight import preflight

BIN = Path(sys.executable).parent
QUIET = ["callbacks.progress_bar.refresh_rate=0", "trainer.accelerator=cpu"]


def ablation_train(cwd: Path, *args: str, background: bool = False):
    command = [str(BIN / "ablation-train"), *args]
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "RAY_DEDUP_LOGS": "0"}
    if background:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def records(sweep: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(sweep.glob("*/metrics.json"))}


def report_rows(sweep: Path) -> list[dict]:
    with open(sweep / "report.csv") as f:
        return list(csv.DictReader(f))


def only_sweep(cwd: Path) -> Path:
    (sweep,) = (cwd / "logs" / "multiruns").iterdir()
    return sweep


@pytest.mark.slow
@pytest.mark.parametrize(
    ("launcher", "threads"),
    [
        (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], "shared by 2 parallel jobs"),
        (["hydra/launcher=submitit_local"], "the cores the launcher gives each job"),
        (
            ["hydra/launcher=ray", "hydra.launcher.ray.init.num_cpus=2"],
            "the cores the launcher gives each job",
        ),
    ],
    ids=["joblib", "submitit_local", "ray"],
)
def test_a_parallel_launcher_writes_the_whole_sweep_into_one_folder_with_a_summary(
    tmp_path, launcher, threads
):
    proc = ablation_train(
        tmp_path, "-m", *launcher, "activation=relu,tanh", "seed=0,1", "trainer.max_epochs=1", *QUIET
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = only_sweep(tmp_path)
    cells = records(sweep)
    assert len(cells) == 4 and all(r["status"] == "done" for r in cells.values())
    assert {(r["choices"]["activation"], r["choices"]["seed"]) for r in cells.values()} == {
        (a, s) for a in ("relu", "tanh") for s in (0, 1)
    }
    assert {row["activation"] for row in report_rows(sweep)} == {"relu", "tanh"}
    assert (sweep / "report.md").is_file() and (sweep / "report.html").is_file()
    logs = [(sweep / name / "train.log").read_text() for name in cells]
    assert all("threads: 1 (" in log and f"{threads})" in log for log in logs)


def test_the_slurm_preset_composes_and_submitit_writes_its_sbatch_script(tmp_path, monkeypatch):
    import submitit
    from hydra.utils import instantiate

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        overrides = ["hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu", "trainer=gpu"]
        cfg = compose(
            "train", overrides=[*overrides, f"hydra.sweep.dir={tmp_path}/sweep"], return_hydra_config=True
        )
    GlobalHydra.instance().clear()
    with open_dict(cfg):
        cfg.hydra.job.name = "train"  # set by Hydra when a run starts
    launcher = instantiate(OmegaConf.to_container(cfg.hydra.launcher, resolve=True))
    launcher.config = cfg
    scripts = []

    def write_script_instead_of_submitting(self, fn, *args):
        scripts.append(self._executor._make_submission_file_text("python -u -m submitit.core._submit", "uid"))
        return []

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", write_script_instead_of_submitting)
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 1))  # as if srun existed
    assert launcher.launch([["activation=relu"], ["activation=tanh"]], initial_job_idx=0) == []
    (script,) = scripts
    for line in (
        "#SBATCH --partition=gpu",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --mem=16GB",
        "#SBATCH --time=240",
        f"{tmp_path}/sweep/.submitit",
    ):
        assert line in script, line


def test_a_launcher_preset_without_its_plugin_is_refused_naming_the_extra(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if "joblib_launcher" in name else real(name, *a)
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[joblib\]'"):
        preflight(CONF_DIR, "train", ["hydra/launcher=joblib"])


def test_the_preflight_checks_both_ends_of_an_optuna_interval(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    bad = "regularization.dropout.p=interval(0.0, 1.5)"  # a search space given on the command line
    with pytest.raises(ConfigError, match=r"regularization.dropout.p=1.5 is out of range"):
        preflight(CONF_DIR, "train", ["hparams_search=lr_dropout", bad])
    preflight(CONF_DIR, "train", ["hparams_search=lr_dropout"])  # both ends of both spaces are fine


@pytest.mark.slow
def test_an_optuna_search_over_a_log_interval_and_an_interval_ranks_its_trials(tmp_path):
    proc = ablation_train(
        tmp_path,
        "-m",
        "hparams_search=lr_dropout",
        "hydra.sweeper.n_trials=3",
        "trainer.max_epochs=1",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = only_sweep(tmp_path)
    trials = records(sweep)
    assert len(trials) == 3
    lrs = [float(r["overrides"]["optim.optimizer.lr"]) for r in trials.values()]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs) and len(set(lrs)) == 3
    best = max(trials.values(), key=lambda r: r["metrics"]["val/acc_best"])
    result = OmegaConf.load(sweep / "optimization_results.yaml")
    assert result.best_value == pytest.approx(best["metrics"]["val/acc_best"])
    ranked = report_rows(sweep)  # best validation first
    assert len(ranked) == 3
    assert float(ranked[0]["optim.optimizer.lr"]) == pytest.approx(
        float(best["overrides"]["optim.optimizer.lr"])
    )


@pytest.mark.slow
def test_failed_and_diverged_cells_are_recorded_apart_and_the_sweep_goes_on(tmp_path):
    """The preflight refuses a dataset missing before the sweep starts; files that vanish while it
    runs (a scratch cleaner, an unmounted disk) fail their cells at run time, recorded apart."""
    from fake_datasets import write_mnist

    write_mnist(tmp_path / "mnist", n_train=500, n_test=100)
    command = [str(BIN / "ablation-train"), "-m", "data=digits,mnist", f"data.root={tmp_path}/mnist"]
    command += ["optim=sgd", "optim.optimizer.lr=0.05,1e4", "trainer.max_epochs=2", *QUIET]
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as running:
        # every job's data was checked before the first job's folder exists; then the files go
        _wait_for(lambda: any((tmp_path / "logs" / "multiruns").glob("*/000_*")))
        for f in (tmp_path / "mnist" / "MNIST" / "raw").iterdir():
            f.unlink()
        out, err = running.communicate(timeout=900)
    proc = subprocess.CompletedProcess(command, running.returncode, out, err)
    assert proc.returncode == 1
    errors = [
        line
        for line in proc.stderr.splitlines()
        if line.startswith(("ablation-train: failed", "ablation-train: diverged"))
    ]
    assert len(errors) == 3 and "Traceback" not in proc.stderr
    cells = records(only_sweep(tmp_path))
    status = {
        (r["choices"]["data"], r["overrides"]["optim.optimizer.lr"]): r["status"] for r in cells.values()
    }
    assert status == {
        ("digits", "0.05"): "done",
        ("digits", "10000.0"): "diverged",
        ("mnist", "0.05"): "failed",
        ("mnist", "10000.0"): "failed",
    }
    failed = next(r for r in cells.values() if r["status"] == "failed")
    assert "no MNIST files under data.root" in failed["error"]
    for name, r in cells.items():
        if r["status"] != "done":
            assert "Traceback" in (only_sweep(tmp_path) / name / "train.log").read_text()
    report = (only_sweep(tmp_path) / "report.md").read_text()
    apart = report.split("## Not counted: 3 of 4 runs did not finish")[1]
    assert apart.count(": failed (") == 2 and apart.count(": diverged (") == 1
    assert len(report_rows(only_sweep(tmp_path))) == 1  # only the finished cell is a result


def _wait_for(predicate, timeout: float = 300.0) -> None:
    end = time.time() + timeout
    while not predicate():
        assert time.time() < end, "timed out"
        time.sleep(0.05)


RESNET = [
    "model=resnet",
    "model.depth=14",
    "trainer.max_epochs=4",
    "regularization=[dropout,cutout]",
    "seed=3",
    "threads=1",  # threads=auto picks by load, and 1, 2 and 4 threads train to different weights
    *QUIET,
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """metrics.json of the RESNET run trained start to end."""
    whole = tmp_path_factory.mktemp("whole")
    assert ablation_train(whole, *RESNET).returncode == 0
    (done,) = (whole / "logs" / "runs").iterdir()
    return json.loads((done / "metrics.json").read_text())


def _stopped_after_an_epoch(folder: Path, sig: int) -> tuple[Path, int]:
    """Start the RESNET run in `folder`, send `sig` once it has checkpointed an epoch; (run, status)."""
    proc = ablation_train(folder, *RESNET, background=True)
    last = lambda: next((folder / "logs" / "runs").glob("*/checkpoints/last.ckpt"), None)  # noqa: E731
    _wait_for(
        lambda: (
            (folder / "logs" / "runs").exists()
            and last() is not None
            and torch.load(last(), weights_only=True)["epoch"] >= 1
        )
    )
    proc.send_signal(sig)
    status = proc.wait(timeout=300)
    (run,) = (folder / "logs" / "runs").iterdir()
    return run, status


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "status", "record"),
    [(signal.SIGKILL, -signal.SIGKILL, "running"), (signal.SIGTERM, 143, "interrupted")],
    ids=["kill-9", "sigterm"],
)
def test_a_stopped_run_resumed_ends_with_the_uninterrupted_runs_metrics(
    tmp_path, uninterrupted, sig, status, record
):
    run, exit_status = _stopped_after_an_epoch(tmp_path, sig)
    assert exit_status == status  # SIGTERM (preemption, `timeout`): 143, never a success
    assert json.loads((run / "metrics.json").read_text())["status"] == record
    resumed = ablation_train(tmp_path, f"ckpt_path={run}/checkpoints/last.ckpt")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [p.name for p in (tmp_path / "logs" / "runs").iterdir()] == [run.name]  # in its own folder
    after = json.loads((run / "metrics.json").read_text())
    assert after["status"] == "done" and after["epochs"] == uninterrupted["epochs"] == 4
    assert after["metrics"] == uninterrupted["metrics"]  # exact on CPU: weights, optimizer, RNG, order
    again = ablation_train(tmp_path, f"ckpt_path={run}/checkpoints/last.ckpt")
    assert again.returncode == 2 and "finished (status done)" in again.stderr


@pytest.mark.slow
def test_an_interrupted_sweep_resumed_runs_only_the_cells_that_did_not_finish(tmp_path):
    args = [
        "-m",
        "model=resnet",
        "model.depth=8",
        "activation=relu,tanh",
        "seed=0,1",
        "trainer.max_epochs=3",
        *QUIET,
    ]
    proc = ablation_train(tmp_path, *args, background=True)
    done = lambda: [r for r in records(only_sweep(tmp_path)).values() if r["status"] == "done"]  # noqa: E731
    _wait_for(lambda: (tmp_path / "logs" / "multiruns").exists() and len(done()) >= 2)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    proc.wait(timeout=120)
    sweep = only_sweep(tmp_path)
    before = records(sweep)
    finished = {name for name, r in before.items() if r["status"] == "done"}
    assert 2 <= len(finished) < 4
    stamps = {
        name: [(sweep / name / f).stat().st_mtime_ns for f in ("metrics.json", ".hydra/config.yaml")]
        for name in finished
    }
    proc = ablation_train(tmp_path, *args, f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = records(sweep)
    assert len(after) == 4 and all(r["status"] == "done" for r in after.values())
    for name in finished:  # kept as they were, config files included
        assert [
            (sweep / name / f).stat().st_mtime_ns for f in ("metrics.json", ".hydra/config.yaml")
        ] == stamps[name]
        assert "finished before (done); kept as it is" in (sweep / name / "train.log").read_text()
    assert [row["n"] for row in report_rows(sweep)] == ["2", "2"]  # relu and tanh, 2 seeds each
