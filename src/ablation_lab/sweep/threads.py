"""How many torch threads a run uses, and which GPU. `threads: auto` takes the cores that nobody is
using right now for a run alone, or its share of the cores when a parallel launcher runs several jobs
at once. Under contention, torch's default (one thread per core) can make a small model several
times slower.

"Right now" is measured from /proc/stat over the run's own start-up (the CLI opens the window before
its checks: utils/cli.py), less this process's own CPU time, so it costs no wait; without an open
window (or one shorter than 0.1 s) it waits out 0.1 s. Not the load average, which lags by minutes."""

import os
import time

from omegaconf import DictConfig

MIN_WINDOW_S = 0.1


def _cpu_times() -> tuple[float, float]:
    """(all CPU ticks, idle ticks) of the machine since boot."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields), idle


def _own_ticks() -> float:
    """This process's CPU time (all its threads), in /proc/stat's ticks."""
    t = os.times()
    return (t.user + t.system) * os.sysconf("SC_CLK_TCK")


def _now() -> float:
    return time.monotonic()


def _sample() -> tuple[float, float, float, float]:
    return (_now(), *_cpu_times(), _own_ticks())


_WINDOW: list[tuple[float, float, float, float]] = []  # the open window's first sample


def open_window() -> None:
    """Start counting the busy cores now (the CLI, at start): apply_threads then reads the window."""
    try:
        _WINDOW[:] = [_sample()]
    except OSError:
        _WINDOW.clear()


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def busy_cores(interval: float = MIN_WINDOW_S) -> float:
    """Cores busy with other processes' work (Linux /proc/stat; the load average elsewhere), over
    the open window, else over `interval` seconds from now; the window closes."""
    try:
        start = _WINDOW.pop() if _WINDOW else _sample()
        wait = interval - (_now() - start[0])
        if wait > 0:
            time.sleep(wait)
        end = _sample()
    except OSError:
        return min(float(cores()), os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0.0
    return cores() * busy_fraction(start, end)


def busy_fraction(start: tuple[float, ...], end: tuple[float, ...]) -> float:
    """The share of all CPU time between two samples spent on other processes' work."""
    (_, total0, idle0, own0), (_, total1, idle1, own1) = start, end
    total = max(total1 - total0, 1e-9)
    others = (total - (idle1 - idle0)) - (own1 - own0)
    return min(1.0, max(0.0, others / total))


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
