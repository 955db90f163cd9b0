"""Times Lightning's training loop from inside a process, without touching its config: imported at
start-up when this folder is on PYTHONPATH (Python imports `sitecustomize` by itself).

- $TTFS_OUT: appends "<$TTFS_TAG> <seconds from the process's start to its first training step>".
- $THRU_OUT: appends "<$TTFS_TAG> <images/s>" at exit, over batches 11… of every epoch (the first
  10 of an epoch warm up), with $THRU_BATCH images a batch.

Both patch `_TrainingEpochLoop.advance` (one call per training batch) when Lightning imports it.
"""

import atexit
import importlib.abc
import importlib.util
import os
import sys
import time

LOOP = "lightning.pytorch.loops.training_epoch_loop"
WARMUP = 10


def _process_start() -> float:
    """The process's start (Unix time) from /proc: the interpreter's own start-up counts too."""
    with open("/proc/self/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _append(path: str, value: float) -> None:
    with open(path, "a") as f:
        f.write(f"{os.environ.get('TTFS_TAG', '')} {value:.3f}\n")


class _TimeTheLoop(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.start = _process_start()
        self.stamps: dict[int, list[float]] = {}  # epoch → each batch's start (perf_counter)

    def find_spec(self, name, path, target=None):
        if name != LOOP:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module) -> None:
            load(module)
            advance = module._TrainingEpochLoop.advance

            def timed(loop, *args, **kwargs):
                if not self.stamps and os.environ.get("TTFS_OUT"):
                    _append(os.environ["TTFS_OUT"], time.time() - self.start)
                self.stamps.setdefault(loop.trainer.current_epoch, []).append(time.perf_counter())
                return advance(loop, *args, **kwargs)

            module._TrainingEpochLoop.advance = timed

        spec.loader.exec_module = exec_module
        if os.environ.get("THRU_OUT"):
            atexit.register(self.report)
        return spec

    def report(self) -> None:
        steps, seconds = 0, 0.0
        for times in self.stamps.values():
            if len(times) > WARMUP + 2:
                steps += len(times) - WARMUP - 1
                seconds += times[-1] - times[WARMUP]
        if seconds:
            _append(os.environ["THRU_OUT"], steps * int(os.environ["THRU_BATCH"]) / seconds)


if os.environ.get("TTFS_OUT") or os.environ.get("THRU_OUT"):
    sys.meta_path.insert(0, _TimeTheLoop())
