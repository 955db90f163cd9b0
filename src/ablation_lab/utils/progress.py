"""Progress of a sweep's job, where Lightning's bar is off: one line with the cell (k of n), epoch,
step, the latest val/acc and the ETA of the cell and of the sweep. On a terminal the line updates in
place (at most 4 times a second); in a log or a pipe a plain line is printed about every 30 s and at
each epoch's end. It reads a clock and the step counter per step, nothing that waits for the device.
A resumed run says which epoch it resumes from."""

import os
import sys
import time

from lightning.pytorch.callbacks import Callback

from ablation_lab.utils.progress_env import SWEEP_JOBS, SWEEP_START

_clock = time.monotonic  # seconds since the machine booted (a test sets the boot back)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


class ProgressLine(Callback):
    """The sweep job's progress line (see the module docstring)."""

    def __init__(self, job: int | None = None, every_s: float | None = 30.0, stream=None) -> None:
        """`job`: the cell's number in its sweep; `every_s` None: only the resume note (a single run,
        which has Lightning's bar)."""
        self.job = job
        self.every_s = every_s
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.jobs = int(os.environ.get(SWEEP_JOBS, "0") or 0)
        self.sweep_start = float(os.environ.get(SWEEP_START, "0") or 0)
        self._shown: float | None = None  # monotonic time of the last line; None: print the first step
        self._start = 0.0
        self._first_step = 0
        self._job_started = time.time()

    def on_train_start(self, trainer, pl_module) -> None:
        self._start = _clock()
        self._job_started = time.time()
        self._first_step = trainer.global_step
        if trainer.current_epoch > 0 and trainer.is_global_zero:
            self._print(f"resuming from epoch {trainer.current_epoch} (step {trainer.global_step})", end=True)

    def _eta(self, trainer) -> float | None:
        done = trainer.global_step - self._first_step
        total = trainer.estimated_stepping_batches
        if done <= 0 or not total or total == float("inf"):
            return None
        return (_clock() - self._start) / done * max(0, total - trainer.global_step)

    def _line(self, trainer) -> str:
        parts = []
        if self.job is not None:
            parts.append(f"cell {self.job + 1}" + (f" of {self.jobs}" if self.jobs else ""))
        parts.append(f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}")
        parts.append(f"step {trainer.global_step}")
        val = trainer.callback_metrics.get("val/acc")
        if val is not None:
            parts.append(f"val/acc {float(val):.4f}")
        eta = self._eta(trainer)
        if eta is not None:
            parts.append(f"cell ETA {_duration(eta)}")
            if self.jobs and self.job is not None and self.sweep_start:
                before = self._job_started - self.sweep_start
                this_cell = time.time() - self._job_started + eta
                per_cell = before / self.job if self.job else this_cell  # cells run one after another
                parts.append(f"sweep ETA {_duration(per_cell * (self.jobs - self.job - 1) + eta)}")
        return "  ".join(parts)

    def _print(self, text: str, end: bool = False) -> None:
        if self.live:
            self.stream.write("\r\033[K" + text + ("\n" if end else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.every_s is None:
            return
        now = _clock()
        due = self._shown is None or now - self._shown >= (0.25 if self.live else self.every_s)
        if due and trainer.is_global_zero:
            self._shown = now
            self._print(self._line(trainer))

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if self.every_s is not None and not trainer.sanity_checking and trainer.is_global_zero:
            self._shown = _clock()
            self._print(
                self._line(trainer), end=self.live and trainer.current_epoch + 1 >= trainer.max_epochs
            )

    def on_train_end(self, trainer, pl_module) -> None:
        if self.every_s is not None and self.live and trainer.is_global_zero:
            self.stream.write("\n")
            self.stream.flush()
