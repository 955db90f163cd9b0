"""Checkpoint files, safely: loaded with `weights_only=True` (tensors and plain containers only, so a
crafted file cannot run code) and written to a temporary file renamed into place (a full disk or a
kill never leaves a truncated checkpoint behind)."""

import errno
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from ablation_lab.errors import ConfigError

LOW_SPACE = 64 * 2**20  # bytes free under which a failed write is reported as a full disk


def load_checkpoint(path, key: str = "ckpt_path") -> dict[str, Any]:
    """The dict saved at `path`, or a ConfigError naming `key`, the path and why it was refused."""
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise ConfigError(
            f"{key}='{path}' is not a file; pass a .ckpt from a run's checkpoints/ folder"
        ) from err
    except pickle.UnpicklingError as err:
        raise ConfigError(
            f"{key}='{path}' holds objects other than tensors and plain containers; refused, since "
            f"loading it could run code"
        ) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"{key}='{path}' is not a readable checkpoint ({first})") from err


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint I/O with atomic local writes and weights-only loads."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as err:
            tmp.unlink(missing_ok=True)
            free = shutil.disk_usage(path.parent).free
            if isinstance(err, OSError | RuntimeError) and free < LOW_SPACE:
                raise OSError(
                    errno.ENOSPC,
                    f"no space left on the device of {path.parent} ({free // 1024} KiB free) while writing "
                    f"{path.name}; the checkpoints written before are intact",
                ) from err
            raise

    def load_checkpoint(self, path, map_location=None, weights_only: bool | None = None) -> dict[str, Any]:
        return load_checkpoint(path)


# What a finished run's checkpoint needs: its weights, its config (and preprocessing buffers, in
# the state_dict), where it stopped. Optimizer and scheduler states only serve a resume.
LEAN_KEYS = ("state_dict", "ablation_lab_config", "epoch", "global_step", "pytorch-lightning_version")


class BestWeights(Callback):
    """The best validation weights kept in memory (a CPU copy), for runs that write no best
    checkpoint: the run is still tested on its best weights."""

    def __init__(self, monitor: str = "val/acc") -> None:
        self.monitor, self.best, self.state = monitor, None, None

    def on_validation_end(self, trainer, module) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None or not torch.isfinite(value):
            return
        if self.best is None or float(value) > self.best:
            self.best = float(value)
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


class StepCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose state key, which Lightning formats from its settings on each of its ~6
    hook calls a step, is formatted once. It is ModelCheckpoint's own key: checkpoints written by
    Lightning's class, or before this one existed, resume their callback state into it."""

    @property
    def state_key(self) -> str:
        key = self.__dict__.get("_state_key")
        if key is None:
            own = super().state_key  # "StepCheckpoint{...settings...}"
            key = self.__dict__["_state_key"] = "ModelCheckpoint" + own.removeprefix(type(self).__qualname__)
        return key


def checkpoint_callbacks(policy: str, dirpath: Path, sweep: bool) -> list[Callback]:
    """The callbacks of a checkpoint policy. best: best-epochNNN.ckpt (weights only) by val/acc;
    last: last.ckpt, rewritten at every epoch end (what a resume needs); auto: both for a run on
    its own, last for a sweep's cell (disk: one file a cell; the best weights are kept in memory)."""
    policy = ("last" if sweep else "both") if policy == "auto" else policy
    callbacks: list[Callback] = []
    if policy in ("both", "best"):
        callbacks.append(
            StepCheckpoint(
                dirpath,
                "best-epoch{epoch:03d}",
                monitor="val/acc",
                mode="max",
                save_top_k=1,
                auto_insert_metric_name=False,
                save_weights_only=True,
            )
        )
    else:
        callbacks.append(BestWeights("val/acc"))
    if policy in ("both", "last"):
        callbacks.append(
            StepCheckpoint(dirpath, "last", monitor=None, save_top_k=1, enable_version_counter=False)
        )
    return callbacks


def make_lean(path: Path) -> None:
    """Rewrite a finished run's checkpoint without optimizer and scheduler states (a third of the
    size with Adam); weights, config and preprocessing stay, so eval and init=pretrained work."""
    checkpoint = load_checkpoint(path)
    SafeCheckpointIO().save_checkpoint({k: checkpoint[k] for k in LEAN_KEYS if k in checkpoint}, path)
