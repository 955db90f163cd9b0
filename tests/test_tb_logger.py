"""The run's TensorBoard logger writes each log call's scalars as one event, and what TensorBoard
reads back is what was logged (tags, values, steps), without Lightning's `epoch` scalar."""

import pytest
import torch
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from ablation_lab.utils.tb_views import RunLogger, _masked_crc32c, fast_event_checksums

import tb_events


def _summaries(run_dir) -> list:
    (path,) = run_dir.glob("events.out.tfevents.*")
    return [e.summary for e in EventFileLoader(str(path)).Load() if e.HasField("summary")]


def test_one_log_call_is_one_event_that_tensorboard_reads_back(tmp_path):
    logger = RunLogger(save_dir=str(tmp_path), name="", version="", default_hp_metric=False)
    logger.log_metrics({"train/loss": torch.tensor(0.25), "train/acc": 0.5, "epoch": 3}, step=7)
    logger.log_metrics({"train/loss": 0.125}, step=8)
    logger.experiment.flush()
    summaries = _summaries(tmp_path)
    assert [sorted(v.tag for v in s.value) for s in summaries] == [
        ["train/acc", "train/loss"],
        ["train/loss"],
    ]
    acc = tb_events.load(tmp_path)
    assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == [(7, 0.25), (8, 0.125)]
    assert [(e.step, e.value) for e in acc.Scalars("train/acc")] == [(7, 0.5)]
    assert "epoch" not in acc.Tags()["scalars"]


def test_a_value_that_is_not_a_scalar_is_refused_by_its_tag(tmp_path):
    logger = RunLogger(save_dir=str(tmp_path), name="", version="")
    with pytest.raises(ValueError, match="train/oops="):
        logger.log_metrics({"train/oops": torch.ones(3)}, step=1)


def test_a_run_logs_its_step_loss_every_log_every_n_steps(make_cfg, tmp_path):
    from ablation_lab.train import train

    train(make_cfg("trainer.max_epochs=2", "++trainer.limit_train_batches=12", "trainer.log_every_n_steps=5"))
    logged = [(e.step, e.value) for e in tb_events.load(tmp_path).Scalars("train/loss_step")]
    assert [step for step, _ in logged] == [4, 9, 14, 19]  # the 5th, 10th, ... optimizer step
    assert all(0 < value < 10 for _, value in logged)


def test_event_checksums_are_tensorboards_own_computed_in_c(tmp_path):
    """TensorBoard's reader checks every record against its own pure-Python CRC-32C: the reads
    above (EventFileLoader) pass only if the records written with google-crc32c's match it."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
    from tensorboard.summary.writer import record_writer

    assert fast_event_checksums() and record_writer.masked_crc32c is _masked_crc32c
    g = torch.Generator().manual_seed(0)
    for n in (0, 1, 7, 8, 12, 1000, 8191):
        data = bytes(torch.randint(0, 256, (n,), generator=g, dtype=torch.uint8).tolist())
        assert _masked_crc32c(data) == masked_crc32c(data), n
