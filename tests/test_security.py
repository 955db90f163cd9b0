"""Every route from a command line, a config folder or a run folder to code is closed, through the
real commands: the payload never runs, the exit status is 2 with one line, and nothing under logs/
changes. One test per class, each with variants (other modules to walk through, other flags first,
other factory keys, crafted run folders)."""

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import bad_files

BIN = Path(sys.executable).parent
WALK = "ablation_lab.diagnostics.callback.torch.load"  # a module that imports torch, walked through


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def lab(tmp_path):
    """A folder with an earlier run under logs/, a pickle payload and a factory payload's target."""
    bad_files.malicious_checkpoint(tmp_path / "evil.ckpt", tmp_path / "PAYLOAD_RAN")
    earlier = tmp_path / "logs" / "runs" / "2020-01-01_00-00-00_defaults"
    earlier.mkdir(parents=True)
    (earlier / "metrics.json").write_text('{"status": "done"}')
    return tmp_path


def refused(lab: Path, tool: str, *args: str) -> subprocess.CompletedProcess:
    """Run `tool args` in `lab`; assert exit 2, one line, no payload, logs/ byte-for-byte as before."""
    before = _digest(lab / "logs")
    argv = [a.replace("{tmp}", str(lab)) for a in args]
    proc = subprocess.run(
        [str(BIN / tool), *argv],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
    )
    assert proc.returncode == 2, proc.stdout[-1500:] + proc.stderr[-1500:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{tool}: error: "), proc.stderr
    assert not (lab / "PAYLOAD_RAN").exists() and not (lab / "RAN").exists()
    assert _digest(lab / "logs") == before
    return proc


PICKLE = ["+callbacks.x.f={tmp}/evil.ckpt", "+callbacks.x.weights_only=false"]
FACTORY = "{\\(\\):%s,f:{tmp}/evil.ckpt,weights_only:false}"
SAVES = "{\\(\\):torch.save,obj:1,f:{tmp}/RAN}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        [f"+callbacks.x._target_={WALK}", *PICKLE],
        ["+callbacks.x._target_=lightning.pytorch.callbacks.model_checkpoint.torch.load", *PICKLE],
        [
            "+hydra.callbacks.x._target_=ablation_lab.report.callback.os.system",
            "+hydra.callbacks.x.command=x",
        ],
        ["trainer._target_=lightning.pytorch.trainer.trainer.os.system"],
        ["+logger.x._target_=lightning.pytorch.loggers.tensorboard.os.system", "+logger.x.command=x"],
    ],
    ids=["diagnostics-torch", "checkpoint-torch", "report-os", "trainer-os", "logger-os"],
)
def test_a_target_walked_through_an_allowed_module_is_refused(lab, args):
    proc = refused(lab, "ablation-train", *args)
    assert "which is not a class" in proc.stderr or "cannot be found" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["seed=0", "-m", "+hydra.callbacks.x._target_=torch.load", "+hydra.callbacks.x.f={tmp}/evil.ckpt"],
        ["seed=0", "--multirun", f"+callbacks.x._target_={WALK}", *PICKLE],
        ["activation=relu", "-m", "data.batch_size=0"],
        ["seed=0", "--config-name", "train", "data.batch_size=0"],
        ["-m", "seed=0", "--info", f"+hydra.job_logging.handlers.y={FACTORY % WALK}"],
        ["-m", "seed=0,1", "--cfg", "job"],  # two modes: Hydra's bare ValueError traceback before
    ],
    ids=[
        "hydra-callback-after-m",
        "callback-after-multirun",
        "bad-value-after-m",
        "after-config-name",
        "info",
        "two-modes",
    ],
)
def test_overrides_on_either_side_of_a_flag_are_checked(lab, args):
    refused(lab, "ablation-train", *args)


def test_overrides_keep_the_order_typed_across_flags(tmp_path):
    proc = subprocess.run(
        [str(BIN / "ablation-train"), "model.width=32", "--cfg", "job", "model.width=64"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "width: 64" in proc.stdout and "width: 32" not in proc.stdout  # the last one wins, as typed


ANTIGRAVITY = [  # a DDP rank imports antigravity at start-up, which runs $BROWSER: no file needed
    "+hydra.job.env_set.BROWSER='touch {tmp}/RAN %s'",
    "+hydra.job.env_set.PYTHONWARNINGS='ignore::antigravity.X'",
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", *ANTIGRAVITY],
        ["+hydra.job.env_set.PYTHONPATH={tmp}/site"],
        ["-m", "seed=0,1", "+hydra.job.env_set.LD_PRELOAD={tmp}/x.so"],
        ["--config-dir", "{tmp}/envconf", "experiment=env"],
        ["-m", "hydra/launcher=submitit_slurm", "seed=0,1", "hydra.launcher.setup=['touch {tmp}/RAN']"],
        ["-m", "hydra/launcher=submitit_slurm", "seed=0,1", "+hydra.launcher.srun_args=['--prolog=x']"],
        [
            "-m",
            "hydra/launcher=submitit_slurm",
            "seed=0,1",
            "+hydra.launcher.additional_parameters.export=A",
        ],
        ["-m", "hydra/launcher=ray", "seed=0,1", "+hydra.launcher.ray.init.runtime_env={pip: [evil]}"],
        ["-m", "hydra/launcher=ray", "seed=0,1", "+hydra.launcher.ray.remote.runtime_env={env_vars: {A: b}}"],
    ],
    ids=[
        "ddp-browser",
        "pythonpath",
        "ld-preload-sweep",
        "env-from-config-dir",
        "slurm-setup",
        "srun-args",
        "sbatch-parameters",
        "ray-init-runtime-env",
        "ray-remote-runtime-env",
    ],
)
def test_no_environment_variable_or_shell_line_reaches_a_runs_processes(lab, args):
    folder = lab / "envconf" / "experiment"
    folder.mkdir(parents=True)
    (folder / "env.yaml").write_text(
        "# @package _global_\nhydra:\n  job:\n    env_set:\n      PYTHONSTARTUP: x\n"
    )
    proc = refused(lab, "ablation-train", *args)
    assert "is refused" in proc.stderr


def test_thread_and_device_variables_may_be_set(tmp_path):
    proc = subprocess.run(
        [str(BIN / "ablation-train"), "+hydra.job.env_set.OMP_NUM_THREADS=1", "--cfg", "hydra"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "OMP_NUM_THREADS: 1" in proc.stdout.replace("'", "")


@pytest.fixture
def config_dir(lab) -> Path:
    """A user's config folder holding a job_logging option whose handler is a payload factory."""
    folder = lab / "myconf" / "hydra" / "job_logging"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text(
        "version: 1\nhandlers:\n  y:\n    (): torch.save\n    obj: 1\n    f: " + str(lab / "RAN") + "\n"
        "root:\n  handlers: [y]\n"
    )
    return lab / "myconf"


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["ablation-train", "ablation-eval", "ablation-diagnose"])
@pytest.mark.parametrize(
    "args",
    [
        [f"+hydra.job_logging.handlers.y={FACTORY % WALK}"],
        [f"+hydra.hydra_logging.handlers.y={SAVES}"],
        ["+hydra.job_logging.formatters.z={\\(\\):torch.save,obj:1,f:{tmp}/RAN}"],
        ["+hydra.job_logging.handlers.z={class:logging.FileHandler,filename:{tmp}/RAN}"],
        ["--config-dir", "{tmp}/myconf", "hydra/job_logging=evil"],
        ["hydra.searchpath=[file://{tmp}/myconf]", "hydra/job_logging=evil"],
    ],
    ids=["handler-factory", "hydra-logging", "formatter-factory", "file-handler", "config-dir", "searchpath"],
)
def test_logging_sections_name_no_code_in_any_tool(lab, config_dir, tool, args):
    extra = ["ckpt_path={tmp}/evil.ckpt"] if tool == "ablation-eval" else []
    refused(lab, tool, *extra, *args)


@pytest.mark.slow
@pytest.mark.parametrize("flag", [["--help"], ["--cfg", "job"], ["--hydra-help"], ["--info", "config"]])
def test_printing_commands_check_what_hydra_sets_up(lab, flag):
    refused(lab, "ablation-train", *flag, f"+hydra.hydra_logging.handlers.y={SAVES}")


def _crafted_run(lab: Path, overrides: list[str]) -> Path:
    """A downloaded 'run folder': a killed run's files with a payload in its overrides.yaml."""
    run = lab / "logs" / "runs" / "2020-01-02_00-00-00_shared"
    (run / ".hydra").mkdir(parents=True)
    (run / "checkpoints").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text(json.dumps(overrides))
    (run / "checkpoints" / "last.ckpt").write_bytes((lab / "evil.ckpt").read_bytes())
    killed = {"status": "running", "pid": 2**22 + 7, "host": socket.gethostname()}  # its process is gone
    (run / "metrics.json").write_text(json.dumps(killed))
    return run


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        [
            f"+callbacks.x._target_={WALK}",
            "+callbacks.x.f={tmp}/evil.ckpt",
            "+callbacks.x.weights_only=false",
        ],
        [f"+hydra.job_logging.handlers.y={FACTORY % WALK}"],  # as Hydra records it, escapes included
        ["+hydra.callbacks.x._target_=os.system", "+hydra.callbacks.x.command=touch {tmp}/RAN"],
        ["+hydra.job.env_set.PYTHONPATH={tmp}/site"],
        {"not": "a list"},
    ],
    ids=["callback", "logging", "hydra-callback", "environment", "not-a-list"],
)
def test_resuming_a_crafted_run_folder_runs_nothing(lab, overrides):
    text = json.dumps(overrides).replace("{tmp}", str(lab))
    run = _crafted_run(lab, json.loads(text))
    proc = refused(lab, "ablation-train", f"ckpt_path={run}/checkpoints/last.ckpt")
    assert "running now" not in proc.stderr and "cannot read" not in proc.stderr  # refused for its content


@pytest.mark.slow
def test_a_resume_never_changes_or_forks_a_run(lab):
    run = _crafted_run(lab, ["model.width=16"])
    proc = refused(lab, "ablation-train", f"ckpt_path={run}/checkpoints/last.ckpt", "model.width=32")
    assert "cannot change it (model.width=32)" in proc.stderr
    proc = refused(lab, "ablation-train", "-m", f"ckpt_path={run}/checkpoints/last.ckpt", "seed=0,1")
    assert "cannot be swept" in proc.stderr


@pytest.mark.slow
def test_a_run_that_is_running_is_not_resumed_twice(lab):
    run = _crafted_run(lab, ["model.width=16"])
    live = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
    (run / "metrics.json").write_text(json.dumps(live))
    proc = refused(lab, "ablation-train", f"ckpt_path={run}/checkpoints/last.ckpt")
    assert "is running now" in proc.stderr


def test_make_tensorboard_serves_only_this_machine():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        ["make", "-n", "tensorboard", "VENV=/nonexistent"], cwd=root, capture_output=True, text=True
    )
    line = next(ln for ln in proc.stdout.splitlines() if "tensorboard --logdir" in ln)
    assert "--host 127.0.0.1" in line and "--bind_all" not in line
