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
