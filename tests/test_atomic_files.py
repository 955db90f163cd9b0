"""A full disk (ENOSPC in the middle of a write) leaves the earlier metrics.json and .hydra files as
they were, never a truncated or 0-byte file, and no temporary file behind."""

import errno
import json
import os

import pytest
from omegaconf import OmegaConf

from ablation_lab.utils import atomic
from ablation_lab.utils.run_files import write_metrics


@pytest.fixture
def full_disk(monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)


def test_metrics_json_survives_a_full_disk(tmp_path, full_disk):
    (tmp_path / "metrics.json").write_text(json.dumps({"status": "running"}))
    with pytest.raises(OSError, match="No space"):
        write_metrics(tmp_path, {"val/acc": 0.5}, {"seed": 0}, {"status": "done"})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"status": "running"}
    assert sorted(os.listdir(tmp_path)) == ["metrics.json"]


def test_hydra_config_files_survive_a_full_disk(tmp_path, full_disk):
    import hydra.core.utils

    atomic.atomic_hydra_files()
    (tmp_path / "config.yaml").write_text("seed: 1\n")
    with pytest.raises(OSError, match="No space"):
        hydra.core.utils._save_config(OmegaConf.create({"seed": 2}), "config.yaml", tmp_path)
    assert (tmp_path / "config.yaml").read_text() == "seed: 1\n"
    assert sorted(os.listdir(tmp_path)) == ["config.yaml"]


def test_a_write_that_succeeds_replaces_the_file_whole(tmp_path):
    atomic.write_text_atomic(tmp_path / "a.txt", "old")
    atomic.write_text_atomic(tmp_path / "a.txt", "new")
    assert (tmp_path / "a.txt").read_text() == "new" and os.listdir(tmp_path) == ["a.txt"]
