"""A sweep job's progress line: what it shows while a real (tiny) fit runs, in a pipe and on a
terminal, and the note a resumed run prints."""

import io
import time

import lightning as L

from ablation_lab.build import build_datamodule, build_module
from ablation_lab.utils import progress
from ablation_lab.utils.progress import ProgressLine


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fit(make_cfg, line: ProgressLine, epochs: int = 2, ckpt_path=None, tmp_path=None):
    cfg = make_cfg("model.width=16", f"trainer.max_epochs={epochs}", "++trainer.limit_train_batches=3")
    dm = build_datamodule(cfg)
    trainer = L.Trainer(
        max_epochs=epochs,
        limit_train_batches=3,
        limit_val_batches=1,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[line],
        default_root_dir=tmp_path or cfg.paths.output_dir,  # never the working folder
    )
    trainer.fit(build_module(cfg, dm), datamodule=dm, ckpt_path=ckpt_path, weights_only=True)
    return trainer


def test_a_sweep_job_prints_its_cell_epoch_step_accuracy_and_eta_in_a_pipe(make_cfg, monkeypatch):
    monkeypatch.setenv("ABLATION_LAB_SWEEP_JOBS", "4")
    monkeypatch.setenv("ABLATION_LAB_SWEEP_START", str(time.time() - 60))  # cell 1 took a minute
    stream = io.StringIO()
    _fit(make_cfg, ProgressLine(job=1, every_s=3600, stream=stream))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("cell 2 of 4  epoch 1/2  step 1")  # the first step, then once per epoch
    assert lines[-1].startswith("cell 2 of 4  epoch 2/2  step 6  val/acc 0.")
    assert all("cell ETA" in ln and "sweep ETA" in ln for ln in lines[1:])
    assert "\r" not in stream.getvalue() and len(lines) == 3


def test_the_first_step_is_shown_on_a_machine_booted_seconds_ago(make_cfg, monkeypatch):
    booted = time.monotonic() - 5  # the clock reads 5 s since boot, far less than every_s
    monkeypatch.setattr(progress, "_clock", lambda: time.monotonic() - booted)
    stream = io.StringIO()
    _fit(make_cfg, ProgressLine(job=0, every_s=30, stream=stream))
    assert stream.getvalue().splitlines()[0].startswith("cell 1  epoch 1/2  step 1")


def test_on_a_terminal_the_line_updates_in_place(make_cfg):
    stream = _Terminal()
    _fit(make_cfg, ProgressLine(job=0, every_s=30, stream=stream))
    text = stream.getvalue()
    assert text.count("\r\033[K") >= 3 and text.endswith("\n")
    assert text.count("\n") <= 2  # one finished line (and the newline at the end of training)


def test_a_resumed_run_says_from_which_epoch(make_cfg, tmp_path):
    first = _fit(make_cfg, ProgressLine(every_s=None, stream=io.StringIO()), epochs=1, tmp_path=tmp_path)
    ckpt = tmp_path / "one_epoch.ckpt"
    first.save_checkpoint(ckpt)
    stream = io.StringIO()
    _fit(
        make_cfg, ProgressLine(every_s=None, stream=stream), epochs=2, ckpt_path=str(ckpt), tmp_path=tmp_path
    )
    assert stream.getvalue() == "resuming from epoch 1 (step 3)\n"
