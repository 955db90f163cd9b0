"""Files a run writes are written whole or not at all: into a temporary file beside the target,
flushed to disk, then renamed over it (atomic on POSIX). A full disk or a kill mid-write leaves the
earlier file (or none), never a truncated or 0-byte one. Hydra's own .hydra/*.yaml go the same way."""

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write `text` to `path` atomically; on any error the temporary file is removed and it raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _save_config(cfg, filename: str, output_dir: Path) -> None:
    """hydra.core.utils._save_config, atomic (same signature)."""
    from omegaconf import OmegaConf

    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output_dir / filename, OmegaConf.to_yaml(cfg))


def atomic_hydra_files() -> None:
    """Make Hydra write a run's .hydra/config.yaml, hydra.yaml and overrides.yaml atomically."""
    import hydra.core.utils

    hydra.core.utils._save_config = _save_config
