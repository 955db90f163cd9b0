"""Files a hostile or careless user might hand the CLIs: a checkpoint whose pickle runs a command,
a truncated archive, a checkpoint whose config does not match its weights, damaged dataset files,
.npz arrays of the wrong kind."""

import os
import struct
from pathlib import Path

import numpy as np
import torch


class _RunsCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def malicious_checkpoint(path: Path, marker: Path) -> Path:
    """A valid torch.save archive whose unpickling would create `marker` (if it were allowed to run)."""
    torch.save(
        {"state_dict": {}, "ablation_lab_config": {}, "payload": _RunsCommand(f"touch {marker}")}, path
    )
    return path


def corrupt_checkpoint(path: Path) -> Path:
    """Starts like a zip archive (what torch.save writes), then garbage: a truncated download."""
    path.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 64)
    return path


def mismatched_checkpoint(good: Path, path: Path) -> Path:
    """`good` with its stored config claiming another model width than its weights have."""
    ckpt = torch.load(good, weights_only=True)
    ckpt["ablation_lab_config"]["model"]["width"] = 2 * ckpt["ablation_lab_config"]["model"]["width"]
    torch.save(ckpt, path)
    return path


def npz_with_objects(path: Path, marker: Path | None = None) -> Path:
    """An .npz whose `images` is an object array: reading it would unpickle (and, given `marker`,
    create that file)."""
    images = np.empty(2, dtype=object)
    images[0] = np.zeros((4, 4), np.uint8)
    images[1] = _RunsCommand(f"touch {marker}") if marker else "not an image"
    np.savez(path, images=images, labels=np.arange(2))
    return path


def npz_float_images(path: Path) -> Path:
    np.savez(path, images=np.random.default_rng(0).random((20, 8, 8)), labels=np.arange(20) % 2)
    return path


def npz_short_labels(path: Path, n: int = 200, n_labels: int = 150) -> Path:
    np.savez(path, images=np.zeros((n, 8, 8), np.uint8), labels=np.arange(n_labels) % 2)
    return path


def mnist_file(root: Path, file: str, how: str, folder: str = "MNIST") -> Path:
    """Damage one idx file of an MNIST folder: `empty`, `truncated`, `magic` (wrong magic number),
    `html` (an error page saved in its place), `short_labels` (150 labels for 200 images)."""
    path = root / folder / "raw" / file
    data = path.read_bytes()
    damaged = {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "magic": struct.pack(">I", 1234) + data[4:],
        "html": b"<html><body>404 Not Found</body></html>",
        "short_labels": struct.pack(">II", 2049, 150) + data[8 : 8 + 150],
    }[how]
    path.write_bytes(damaged)
    return path


def garbage_file(path: Path) -> Path:
    """Same name, other bytes: a download cut short or a file from elsewhere."""
    path.write_bytes(b"garbage" * 100)
    return path
