"""Where a command may write: checked before anything is created. A log folder, run folder or sweep
folder must be a writable folder outside /proc, /sys and /dev, of a length the file system takes;
an existing run or sweep folder given by hand must be empty or one the lab wrote (a run to resume,
a sweep to resume, a DDP process re-entering its run), so no one's metrics.json, train.log or
report.md is overwritten. paths.output_dir, where a run writes, is the folder Hydra makes."""

import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, read_write
from omegaconf.errors import OmegaConfBaseException

from ablation_lab.errors import ConfigError

SYSTEM = ("/proc", "/sys", "/dev")
MAX_PATH, MAX_NAME = 4000, 255


def _shown(value: str) -> str:
    return value if len(value) <= 80 else f"{value[:60]}...({len(value)} characters)"


def check_folder(key: str, value: str) -> Path:
    """The absolute folder `key=value` names, if a run could write there; else ConfigError."""
    path = Path(os.path.expanduser(str(value))).absolute()
    if len(str(path)) > MAX_PATH or any(len(part.encode()) > MAX_NAME for part in path.parts):
        raise ConfigError(
            f"{key}='{_shown(str(value))}' is too long (at most {MAX_PATH} characters, {MAX_NAME} per name)"
        )
    if any(str(path) == s or str(path).startswith(s + "/") for s in SYSTEM):
        raise ConfigError(f"{key}='{value}' is under /{path.parts[1]}: not a place for runs")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{key}='{value}' is a file, not a folder")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{key}='{value}' cannot be written ({existing} is read-only); give a writable folder"
        )
    return path


def _written_by_the_lab(path: Path, kind: str) -> bool:
    if kind == "run":
        return (path / ".hydra").is_dir() or (path / "metrics.json").is_file()
    children = [c for c in path.iterdir() if c.is_dir()]
    return (path / "multirun.yaml").is_file() or any((c / ".hydra").is_dir() for c in children)


def check_output_folder(key: str, value: str, kind: str) -> None:
    """`hydra.run.dir` (kind run) or `hydra.sweep.dir` (kind sweep) given by hand: writable, and
    empty, new, or written by the lab."""
    path = check_folder(key, value)
    if path.is_dir() and any(path.iterdir()) and not _written_by_the_lab(path, kind):
        raise ConfigError(
            f"{key}='{value}' holds files that ablation-lab did not write; give a new or empty folder "
            f"(or the folder of a {kind} to resume)"
        )


_HYDRAS_FOLDER = "/<hydra's run folder>"


def check_run_folder(cfg: DictConfig) -> None:
    """paths.output_dir must resolve to Hydra's run folder: Hydra creates, checks (above)
    and resumes that one folder and keeps train.log and .hydra/ there; any other value would split
    a run in two (and named a folder that does not exist yet, the run crashed writing metrics.json).
    Called with `cfg`'s Hydra section as HydraConfig (preflight's _as_hydra_config), whose copy
    gets a stand-in folder."""
    if "paths" not in cfg or "output_dir" not in cfg.paths:
        return
    runtime = HydraConfig.get().runtime
    with read_write(runtime):
        runtime.output_dir = _HYDRAS_FOLDER
    try:
        resolved = str(cfg.paths.output_dir)
    except OmegaConfBaseException:
        resolved = None
    if resolved != _HYDRAS_FOLDER:
        value = OmegaConf.to_container(cfg.paths, resolve=False)["output_dir"]
        raise ConfigError(
            f"paths.output_dir='{value}' is not the run's folder: Hydra makes that one, so set "
            "hydra.run.dir=<folder> (a sweep: hydra.sweep.dir=<folder>) and leave paths.output_dir "
            "as ${hydra:runtime.output_dir}"
        )
