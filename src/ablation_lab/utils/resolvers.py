"""OmegaConf resolvers that name run folders: fresh even when runs start in the same second.

`unique_dir` claims a folder with an atomic mkdir, so two processes can never share one; its
answer is remembered for the process, because Hydra resolves the run directory more than once.
Hydra's compose() resolves it too (tests, scripts, the preflight check): a claimed folder that is
still empty when the process exits is released with rmdir, which cannot remove anything written.
"""

import atexit
import contextlib
import hashlib
import os
import re
from datetime import datetime

from omegaconf import ListConfig, OmegaConf

from ablation_lab.utils.choices import is_arm

_claimed: dict[tuple[str, str], str] = {}
_created_parents: list[str] = []  # folders above claimed ones that this process created

_MAX_NAME = 80


def unique_dir(parent: str, suffix: str = "") -> str:
    """`<parent>/<date>_<time>[_<suffix>]`, with -2, -3 ... appended if that folder exists."""
    key = (parent, suffix)
    if key not in _claimed:
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        base = os.path.join(parent, f"{stamp}_{suffix}" if suffix else stamp)
        missing = [p for p in _ancestors(parent) if not os.path.isdir(p)]
        os.makedirs(parent, exist_ok=True)
        _created_parents.extend(missing)
        path, n = base, 1
        while True:
            try:
                os.mkdir(path)
                break
            except FileExistsError:
                n += 1
                path = f"{base}-{n}"
        _claimed[key] = path
    return _claimed[key]


def _ancestors(folder: str) -> list[str]:
    """`folder` and the folders above it, deepest first."""
    out, path = [], os.path.normpath(folder)
    while path and path not in (os.sep, "."):
        out.append(path)
        path = os.path.dirname(path)
    return out


@atexit.register
def release_unused() -> None:
    """rmdir every folder this process claimed and left empty, then the folders above them that it
    created and that are now empty (rmdir cannot remove anything written)."""
    for folder in [*_claimed.values(), *sorted(set(_created_parents), key=len, reverse=True)]:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def short_overrides(overrides, exclude=()) -> str:
    """A folder-safe digest of the command-line overrides, e.g. `activation=tanh,init=zeros`;
    overrides of the keys in `exclude` (a sweep's constant ones) are left out."""
    kept = [str(o).lstrip("+~") for o in overrides or []]
    kept = [o for o in kept if is_arm(o.partition("=")[0]) and o.partition("=")[0] not in set(exclude or ())]
    name = ",".join(re.sub(r"[^A-Za-z0-9._=,+-]", "-", o.replace("/", "-")) for o in kept)
    if len(name) > _MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:6]
        name = f"{name[: _MAX_NAME - 7]}-{digest}"
    return name or "defaults"


def job_folder(num, overrides, exclude=()) -> str:
    """A sweep cell's folder: its zero-padded job number (sorts as a number) and the overrides that
    vary across the sweep, e.g. `007_activation=tanh,seed=1`."""
    return f"{int(num):03d}_{short_overrides(overrides, exclude)}"


TASK_FOLDERS = {"train": "runs", "eval": "evals", "diagnose": "diagnose"}


def task_folder(task_name: str) -> str:
    """The folder under logs/ of a tool's runs: train → runs, eval → evals, diagnose → diagnose."""
    return TASK_FOLDERS.get(task_name, task_name)


def _cuda_devices() -> int:
    import torch  # only when a launcher preset asks

    return torch.cuda.device_count()


def parallel_jobs(accelerator: str, jobs_per_gpu: int) -> int:
    """Jobs a local parallel launcher runs at once: `jobs_per_gpu` per visible GPU when training on
    GPUs, else one per free core (each then gets one torch thread)."""
    from ablation_lab.sweep.threads import cores

    gpus = _cuda_devices() if accelerator in ("gpu", "cuda", "auto") else 0
    return int(jobs_per_gpu) * gpus if gpus else cores()


def gpus_per_run(accelerator: str, devices=1, jobs_per_gpu: int = 1) -> int | float:
    """GPUs a cluster or Ray task asks for: the run's `trainer.devices` when training on GPU, else 0;
    a one-device run with `jobs_per_gpu` k > 1 asks for 1/k of a GPU (Ray packs k tasks per GPU)."""
    on_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and _cuda_devices() > 0)
    n = (len(devices) if isinstance(devices, list | ListConfig) else max(1, int(devices))) if on_gpu else 0
    return 1 / int(jobs_per_gpu) if n == 1 and int(jobs_per_gpu) > 1 else n


def register_resolvers() -> None:
    """Register once per process (idempotent)."""
    from ablation_lab.data.image_folder import class_folders
    from ablation_lab.data.npz import npz_classes, npz_shape
    from ablation_lab.sweep.cells import config_subdir
    from ablation_lab.utils.help_text import project_help

    resolvers = {
        "task_folder": task_folder,
        "parallel_jobs": parallel_jobs,
        "gpus_per_run": gpus_per_run,
        "job_folder": job_folder,
        "project_help": project_help,
        "config_subdir": config_subdir,
        "unique_dir": unique_dir,
        "short_overrides": short_overrides,
        "class_folders": class_folders,
        "npz_shape": npz_shape,
        "npz_classes": npz_classes,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)


register_resolvers()  # workers of parallel launchers import this module before composing their job
