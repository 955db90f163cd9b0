"""What Lightning does on every training step that costs time and does nothing when nobody profiles.

Per step, Lightning dispatches ~15 hooks to the module and strategy and ~6 to every callback. Each
dispatch (lightning/pytorch/trainer/call.py):
- enters `trainer.profiler.profile(name)`: with no profiler chosen, PassThroughProfiler's is a
  generator-based context manager (~1.4 µs; a shared `nullcontext` is ~0.2 µs);
- names the callback by its `state_key`: ModelCheckpoint's formats a repr of five settings (~1.7 µs);
- sets `pl_module._current_fx_name` through nn.Module.__setattr__ (~2.1 µs; object's is ~0.2 µs).
With the lab's callbacks that is ~230 dispatch costs a step. `NoProfiler` (the trainer's profiler when
`trainer.profiler` is not set) and `FastFxName` (mixed into the LightningModule) remove the first and
the last; utils/checkpoints.py's StepCheckpoint the second (its settings never change in a fit).
utils/hook_dispatch.py then skips the dispatches to hooks whose body is empty, nearly all of them.
"""

import ctypes
import os
from contextlib import nullcontext

from lightning.pytorch.profilers import PassThroughProfiler

_NOTHING = nullcontext()


class NoProfiler(PassThroughProfiler):
    """Lightning's default when no profiler is chosen, with a context that costs nothing to enter."""

    def profile(self, action_name: str):
        return _NOTHING


class FastFxName:
    """A LightningModule mixin: the attribute Lightning sets around every hook call (the hook's name,
    a str) bypasses nn.Module.__setattr__, which only matters for parameters, buffers and modules."""

    def __setattr__(self, name: str, value) -> None:
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


def drop_failing_nvml_probe() -> None:
    """Lightning sets PYTORCH_NVML_BASED_CUDA_CHECK=1 on import, so that torch asks NVML, not CUDA,
    whether a GPU exists (a fork stays CUDA-free). Without an NVIDIA driver NVML cannot load, and
    torch tries to load it again on every check (~30 µs) before asking CUDA anyway. Adam and AdamW
    check on every step, so on a machine without a driver each step paid a failing dlopen. There,
    and only there, the variable is removed: the answer is the same, one C call."""
    if os.environ.get(NVML_CHECK) != "1":
        return
    try:
        ctypes.CDLL("libnvidia-ml.so.1")  # what torch loads (torch/cuda/__init__.py)
    except OSError:
        del os.environ[NVML_CHECK]
