"""How many torch threads a run uses, and which GPU. `threads: auto` takes the cores that nobody is
using right now (measured over 0.1 s, not the lagging load average) for a run alone, or its share
of the cores when a parallel launcher runs several jobs at once. Under contention, torch's default
(one thread per core) can make a small model several times slower."""

import os
import time

from omegaconf import DictConfig


def _cpu_times() -> tuple[float, float]:
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields), idle


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def busy_cores(interval: float = 0.1) -> float:
    """Cores busy with other work right now (Linux /proc/stat; the load average elsewhere)."""
    try:
        total0, idle0 = _cpu_times()
        time.sleep(interval)
        total1, idle1 = _cpu_times()
    except OSError:
        return min(float(cores()), os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0.0
    busy_fraction = 1 - (idle1 - idle0) / max(total1 - total0, 1e-9)
    return cores() * busy_fraction  # on this process's share of the machine


def concurrent_jobs(launcher: DictConfig | None) -> tuple[int | None, int | None]:
    """(jobs run at once, cores given to each) by the sweep's launcher; None where it does not say."""
    if launcher is None:
        return None, None
    target = str(launcher.get("_target_", ""))
    if "Joblib" in target:
        n = int(launcher.get("n_jobs") or 1)
        return (cores() if n < 0 else n), None
    if "submitit" in target:
        return None, launcher.get("cpus_per_task")
    if "Ray" in target:
        return None, (launcher.get("ray") or {}).get("remote", {}).get("num_cpus")
    return 1, None  # Hydra's basic launcher: one job at a time


def resolve_threads(threads, launcher: DictConfig | None) -> tuple[int, str]:
    """(threads, why) for the `threads` knob of a job run by `launcher` (None: a single run)."""
    if threads != "auto":
        return int(threads), "set by threads="
    jobs, per_job = concurrent_jobs(launcher)
    if per_job:
        return int(per_job), "the cores the launcher gives each job"
    if jobs and jobs > 1:
        return max(1, cores() // jobs), f"{cores()} cores shared by {jobs} parallel jobs"
    busy = busy_cores()
    return max(1, min(cores(), round(cores() - busy))), f"{cores()} cores, {busy:.1f} busy with other work"


def apply_threads(threads, launcher: DictConfig | None) -> str:
    """Set torch's threads before the first op; the line that says how many and why."""
    import torch

    n, why = resolve_threads(threads, launcher)
    torch.set_num_threads(n)
    return f"threads: {n} ({why})"


def gpu_for_job(job_num: int, gpus: int) -> int:
    """Jobs of a parallel sweep take the visible GPUs in turn (k jobs per GPU: n_jobs = k·GPUs)."""
    return job_num % max(1, gpus)


def job_gpu(accelerator: str, launcher: DictConfig | None) -> int | None:
    """The GPU of this job when a parallel local launcher runs jobs on several GPUs, else None
    (a single run, one GPU, a cluster task with its own GPU, or CPU training)."""
    jobs, _ = concurrent_jobs(launcher)
    if accelerator not in ("gpu", "cuda", "auto") or not jobs or jobs < 2:
        return None
    import torch
    from hydra.core.hydra_config import HydraConfig

    gpus = torch.cuda.device_count()
    return gpu_for_job(int(HydraConfig.get().job.num), gpus) if gpus > 1 else None
