"""What the launching process decides for the whole sweep, before Hydra starts any job: the one
sweep folder (chosen here, passed to every worker, SLURM array task and Ray task as
`hydra.sweep.dir`), the cores each job of a parallel local launcher gets, whether the chosen
launcher or sweeper is installed, and the command line that resumes a killed run in its folder."""

import importlib.util
import os
import socket
from pathlib import Path

import yaml
from omegaconf import DictConfig

from ablation_lab.errors import ConfigError
from ablation_lab.sweep.cells import finished, previous_record, status_of
from ablation_lab.sweep.threads import cores
from ablation_lab.utils.resolvers import unique_dir

# Hydra plugin (module) and the project's optional extra that installs it, per preset.
PLUGINS = {
    "JoblibLauncher": ("hydra_plugins.hydra_joblib_launcher", "joblib"),
    "submitit_launcher": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "RayLauncher": ("hydra_plugins.hydra_ray_launcher", "ray"),
    "OptunaSweeper": ("hydra_plugins.hydra_optuna_sweeper", "optuna"),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def check_plugins(cfg: DictConfig) -> None:
    """Refuse a launcher or sweeper preset whose Hydra plugin is not installed, naming the extra."""
    for part in ("launcher", "sweeper"):
        target = str(cfg.hydra[part].get("_target_", ""))
        for name, (module, extra) in PLUGINS.items():
            if name in target and not _installed(module):
                raise ConfigError(
                    f"hydra/{part} {target.rsplit('.', 1)[-1]} needs a Hydra plugin that is not installed; "
                    f"pip install -e '.[{extra}]' (or make install EXTRAS={extra})"
                )


def sweep_overrides(args: list[str], first: DictConfig, jobs: list[list[str]]) -> list[str]:
    """Hydra overrides the launching process adds to a multirun: the sweep folder, chosen once (a
    launcher that resolved it in each worker would split the sweep), and for submitit's local
    executor, which starts every job at once, each job's share of the cores. `jobs`: every job's
    overrides; `first`: the first job composed."""
    added = []
    if not any(a.lstrip("+").startswith("hydra.sweep.dir=") for a in args):
        folder = unique_dir(str(Path(str(first.paths.log_dir)) / "multiruns"))
        added.append(f"hydra.sweep.dir={folder}")
    by_key: dict[str, set[str]] = {}
    for job in jobs:
        for override in job:
            key, _, value = str(override).lstrip("+~").partition("=")
            by_key.setdefault(key, set()).add(value)
    constant = sorted(k for k, values in by_key.items() if len(values) == 1 and len(jobs) > 1)
    if constant:  # cell folders (and TensorBoard run names) show only what the sweep varies
        added.append(f"hydra.job.config.override_dirname.exclude_keys=[{','.join(constant)}]")
    launcher = first.hydra.launcher
    if "submitit_launcher.LocalLauncher" in str(launcher.get("_target_")) and not launcher.get(
        "cpus_per_task"
    ):
        added.append(f"hydra.launcher.cpus_per_task={max(1, cores() // len(jobs))}")
    return added


# What a resume may add to the run's own command line: settings that change no number it computes.
RESUME_MAY_SET = (  # hydra.*: where and how it logs (a DDP child re-enters with its own job name)
    "threads",
    "callbacks.progress_bar.refresh_rate",
    "hydra.",
)


def resume_overrides(ckpt_path: str, extra: list[str]) -> list[str]:
    """The command line of the run that wrote `ckpt_path` (<run>/checkpoints/last.ckpt), in its own
    folder, plus `extra` overrides that change nothing it computes; refused if that run finished,
    is running now, or `extra` would change it (the run's record would no longer say what ran)."""
    run_dir = Path(ckpt_path).resolve().parent.parent
    recorded = run_dir / ".hydra" / "overrides.yaml"
    if not recorded.is_file():
        raise ConfigError(
            f"ckpt_path='{ckpt_path}' is not in a run folder (no {recorded}); "
            f"pass <run>/checkpoints/last.ckpt"
        )
    if finished(run_dir):
        raise ConfigError(
            f"the run in {run_dir} finished (status {previous_record(run_dir)['status']}); to train on from "
            f"its weights start a new run with init=pretrained init.path={ckpt_path}"
        )
    record = previous_record(run_dir)
    alive = record and status_of(record) == "running" and record.get("host") == socket.gethostname()
    if alive and os.environ.get("LOCAL_RANK", "0") == "0":  # (a DDP process re-entering its own run)
        raise ConfigError(
            f"the run in {run_dir} is running now (pid {record.get('pid')} on {record.get('host')}); "
            "resume it once it has stopped"
        )
    try:
        listed = yaml.safe_load(recorded.read_text()) or []
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(
            f"{recorded} cannot be read ({type(err).__name__}); it is not a run's record"
        ) from err
    if not isinstance(listed, list) or not all(isinstance(o, str) for o in listed):
        raise ConfigError(f"{recorded} is not a list of overrides; it is not a run's record")
    original = [o for o in listed if not o.lstrip("+").startswith("ckpt_path=")]
    recorded_as = {o.lstrip("+~").partition("=")[0]: o.partition("=")[2] for o in original}
    changes = [  # repeating the run's own overrides is no change
        o
        for o in extra
        if not o.lstrip("+~").partition("=")[0].startswith(RESUME_MAY_SET)
        and recorded_as.get(o.lstrip("+~").partition("=")[0]) != o.partition("=")[2]
    ]
    if changes:
        raise ConfigError(
            f"a resume continues the run as it was and cannot change it ({changes[0]}); start a new run "
            f"from its weights with init=pretrained init.path={ckpt_path} {' '.join(changes)}"
        )
    return [*original, *extra, f"ckpt_path={ckpt_path}", f"hydra.run.dir={run_dir}"]
