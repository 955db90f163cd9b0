"""How a run is placed on its devices: the Trainer arguments train.py adds to `cfg.trainer`.

- `trainer.strategy=ddp` becomes Lightning's DDPStrategy with `ddp_timeout_s` (torch's default is
  30 minutes: a rank whose peer crashed waits that long at its next collective). The backend is
  left to Lightning: nccl on GPUs, gloo on CPU.
- `bf16-mixed` falls back to `16-mixed` on a GPU without bfloat16 (before Ampere).
- Jobs of a parallel local sweep take the visible GPUs in turn (sweep/threads.py), unless a run
  uses several devices itself.
"""

import logging
from datetime import timedelta

import torch
from omegaconf import DictConfig

from ablation_lab.sweep.threads import job_gpu
from ablation_lab.utils.hot_path import NoProfiler

log = logging.getLogger("ablation_lab")
GPU = ("gpu", "cuda")


def device_count(devices) -> int:
    """Devices a run uses per node, as far as the config says: a number, or a list of indices."""
    if isinstance(devices, int):
        return devices
    if isinstance(devices, str) and devices.strip().lstrip("-").isdigit():
        return int(devices)
    try:
        return len(devices)
    except TypeError:
        return 1


def precision(cfg: DictConfig) -> str:
    """The precision the trainer gets: bf16-mixed only where the GPU computes in bfloat16."""
    asked = str(cfg.trainer.get("precision", "32-true"))
    on_gpu = cfg.trainer.get("accelerator") in GPU and torch.cuda.is_available()
    if asked == "bf16-mixed" and on_gpu and not torch.cuda.is_bf16_supported():
        log.info("precision: 16-mixed (this GPU has no bfloat16; bf16-mixed asked)")
        return "16-mixed"
    return asked


def strategy(cfg: DictConfig, timeout_s: int):
    """`trainer.strategy` with a timeout when it is plain DDP; any other value as Lightning takes it."""
    asked = cfg.trainer.get("strategy", "auto")
    if asked != "ddp":
        return asked
    from lightning.pytorch.strategies import DDPStrategy

    return DDPStrategy(timeout=timedelta(seconds=timeout_s))  # same as "ddp", backend by device


def trainer_options(cfg: DictConfig, sweep: bool, launcher: DictConfig | None) -> dict:
    """Trainer keyword arguments that override `cfg.trainer`: strategy, precision, GPU, profiler,
    progress bar."""
    options = {
        "strategy": strategy(cfg, int(cfg.get("ddp_timeout_s", 1800))),
        "precision": precision(cfg),
    }
    if device_count(cfg.trainer.get("devices", 1)) == 1:
        gpu = job_gpu(str(cfg.trainer.get("accelerator", "auto")), launcher)
        if gpu is not None:  # jobs of a parallel sweep take the visible GPUs in turn
            options["devices"] = [gpu]
    if cfg.trainer.get("profiler") is None:  # Lightning's default, without its per-hook context cost
        options["profiler"] = NoProfiler()
    if sweep:  # a sweep's jobs print one line each, not a progress bar
        options["enable_progress_bar"] = False
    return options
