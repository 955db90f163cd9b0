"""Files a hostile or careless user might hand the CLIs: a checkpoint whose pickle runs a command,
a truncated archive, a checkpoint whose config does not match its weights."""

import os
from pathlib import Path

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
