"""A run folder's earlier attempt, as a resumed sweep (`-m <same arguments> hydra.sweep.dir=<sweep>`)
or a resumed run (`ckpt_path=<run>/checkpoints/last.ckpt`) finds it: a finished cell (done, or
diverged: an outcome too) is kept as it is, config files included; an unfinished one (killed,
interrupted, failed) continues from its last.ckpt; a cell never started runs from scratch."""

import json
import os
import socket
from pathlib import Path

from omegaconf import DictConfig

from ablation_lab.utils.run_files import METRICS_FILE

FINISHED = ("done", "diverged")


def previous_record(run_dir) -> dict | None:
    """The metrics.json an earlier attempt left in `run_dir`, None if there is none (or unreadable)."""
    path = Path(str(run_dir)) / METRICS_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def finished(run_dir) -> bool:
    record = previous_record(run_dir)
    return record is not None and record.get("status") in FINISHED


def config_subdir(output_dir: str) -> str | None:
    """Resolver for `hydra.output_subdir`: None for a finished cell, so Hydra leaves its .hydra/
    files (the config it ran with) as they are."""
    return None if finished(output_dir) else ".hydra"


def resume_checkpoint(cfg: DictConfig) -> str | None:
    """The checkpoint a run continues from: `ckpt_path`, or the last.ckpt an unfinished earlier
    attempt left in this run folder; None to start from scratch."""
    if cfg.get("ckpt_path"):
        return str(cfg.ckpt_path)
    last = Path(str(cfg.paths.output_dir)) / "checkpoints" / "last.ckpt"
    return str(last) if last.is_file() and not finished(cfg.paths.output_dir) else None


def status_of(record: dict) -> str:
    """A record's status, with `running` told apart from `killed` (its process is gone)."""
    status = record.get("status", "unknown")
    if status != "running":
        return status
    pid, host = record.get("pid"), record.get("host")
    if host == socket.gethostname() and pid:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return "killed"
        except PermissionError:
            pass
    return status
