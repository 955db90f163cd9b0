"""How a run is placed on its devices: the Trainer arguments train.py adds to `cfg.trainer`.

- `trainer.strategy=ddp` becomes Lightning's DDPStrategy with `ddp_timeout_s` (torch's default is
  30 minutes: a rank whose peer crashed waits that long at its next collective). The backend is
  left to Lightning: nccl on GPUs, gloo on CPU.
- `bf16-mixed` falls back to `16-mixed` on a GPU without bfloat16 (before Ampere).
- Jobs of a parallel local sweep take the visible GPUs in turn (sweep/threads.py), unless a run
  uses several devices itself.
"""

import inspect
import logging
from datetime import timedelta

import torch
from hydra.utils import get_class
from omegaconf import DictConfig

from ablation_lab.errors import ConfigError
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


def check_optimizer_precision(cfg: DictConfig) -> None:
    """Refuse `16-true` with an optimizer whose `eps` float16 cannot hold: 16-true keeps the weights
    and the optimizer's state in float16, where an eps below its smallest normal number (6.1e-05)
    rounds to 0 or to a subnormal, and the first steps divide 0 by 0 or overflow (AdamW, default
    config: NaN at eps=1e-08, inf at 1e-07, trains at 1e-04). 16-mixed and bf16 keep their range."""
    optimizer = (cfg.get("optim") or {}).get("optimizer") or {}
    if str(cfg.trainer.get("precision")) != "16-true" or "_target_" not in optimizer:
        return
    try:
        default = inspect.signature(get_class(optimizer._target_)).parameters.get("eps")
    except Exception:  # not a class: refused elsewhere (config/targets.py)
        return
    eps = optimizer.get("eps", default.default if default is not None else None)
    tiny = torch.finfo(torch.float16).tiny
    if isinstance(eps, int | float) and not isinstance(eps, bool) and eps < tiny:
        name = optimizer._target_.rpartition(".")[2]
        raise ConfigError(
            f"trainer.precision=16-true with {name}'s eps={eps:g}: below float16's smallest normal number "
            f"({tiny:.2g}), its updates become NaN or inf at once; use trainer.precision=16-mixed or "
            "bf16-true, or set +optim.optimizer.eps=1e-4"
        )


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
