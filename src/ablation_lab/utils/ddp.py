"""The other processes of a DDP run, started right under Hydra.

Lightning's DDP launcher starts ranks 1..N-1 by re-running the command line (`sys.argv`) with
`hydra.run.dir=<hydra.run.dir>`. That is right for a single run only: a sweep job's command line
holds `-m` and the sweep's axes (each child would launch the whole sweep again) and its
`hydra.run.dir` is not the cell's folder. `ddp_processes()` gives the children their own command:
the job's own overrides, its output folder as `hydra.run.dir`, no `-m`, no `.hydra/` files of their
own; they learn that their run is a sweep's cell from the environment (checkpoint policy, progress
bar). After the run, it forgets what Lightning's launcher left in this process (the
LOCAL_RANK/MASTER_PORT/... variables, the process group), or the next cell of a sweep would take
itself for a child and wait for ranks that never come.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig

from ablation_lab.utils.run_record import multirun

SWEEP_CELL = "ABLATION_LAB_SWEEP_CELL"  # set for the children of a sweep's cell
LAUNCHER_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE", SWEEP_CELL)
MULTIRUN_FLAGS = ("-m", "--multirun")


def in_sweep() -> bool:
    """Whether this process runs a sweep's cell: a multirun job, or a DDP child of one."""
    return multirun() or os.environ.get(SWEEP_CELL) == "1"


def quoted(value: str) -> str:
    """A value as a quoted string of Hydra's override grammar (a folder name holds '=' and ',')."""
    return "'" + value.replace("'", "\\'") + "'"


def child_command(
    program: list[str], argv: list[str], overrides: list[str], output_dir: str, local_rank: int
) -> list[str]:
    """The command line of local rank `local_rank`: `program`, the Hydra flags of `argv` (config
    name and folder; not -m), the job's overrides, and its output folder as a single run's."""
    parsed, _ = get_args_parser().parse_known_args(argv)
    flags = [a for a in argv if a not in parsed.overrides and a not in MULTIRUN_FLAGS]
    return [
        *program,
        *flags,
        *overrides,
        f"hydra.run.dir={quoted(output_dir)}",
        f"hydra.job.name=train_ddp_process_{local_rank}",  # its log: train_ddp_process_<rank>.log
        "hydra.output_subdir=null",  # the job's .hydra/ files are rank 0's
    ]


def _program() -> list[str]:
    """How this process was started (as Lightning's launcher finds it): a script or `-m module`."""
    import __main__

    if __main__.__spec__ is None:
        return [sys.executable, os.path.abspath(sys.argv[0])]
    return [sys.executable, "-m", __main__.__spec__.name]


def _hydra_child(local_rank: int) -> tuple[list[str], str]:
    """Stands in for Lightning's `_hydra_subprocess_cmd`: (command, working folder)."""
    from hydra.utils import get_original_cwd

    hydra = HydraConfig.get()
    command = child_command(
        _program(), sys.argv[1:], list(hydra.overrides.task), hydra.runtime.output_dir, local_rank
    )
    return command, get_original_cwd()


@contextmanager
def ddp_processes(trainer, sweep: bool) -> Iterator[None]:
    """Around a run's fit and test: children of a DDP launch get their own command line (and know
    whether they run a sweep's cell); afterwards this process is as before the run, its children
    gone (ended at once when the run failed here: they would wait at a collective)."""
    saved = {key: os.environ.get(key) for key in LAUNCHER_ENV}
    launchers = _launcher_modules()
    originals = [module._hydra_subprocess_cmd for module in launchers]
    for module in launchers:
        module._hydra_subprocess_cmd = _hydra_child
    if sweep:
        os.environ[SWEEP_CELL] = "1"
    failed = True
    try:
        yield
        failed = False
    finally:
        _end_children(trainer, kill=failed)
        for module, original in zip(launchers, originals, strict=True):
            module._hydra_subprocess_cmd = original
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _leave_process_group()


def _end_children(trainer, kill: bool, wait_s: float = 120) -> None:
    """Wait for (or kill) the processes Lightning's launcher started. Its observer thread, which
    kills this process when a child ends with an error, is handed an empty list first: a sweep
    goes on to its next cell whatever became of this one's children."""
    procs = getattr(getattr(trainer.strategy, "launcher", None), "procs", None)
    if not procs:
        return
    children = list(procs)
    procs.clear()
    for child in children:
        if not kill:
            try:
                child.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                pass
        if child.poll() is None:
            child.kill()
            child.wait()


def _launcher_modules() -> list:
    """The modules whose `_hydra_subprocess_cmd` Lightning's launchers call: the Trainer's launcher
    imports the name from Fabric's module, so both are replaced."""
    from lightning.fabric.strategies.launchers import subprocess_script as fabric
    from lightning.pytorch.strategies.launchers import subprocess_script as trainer

    return [trainer, fabric]


def _leave_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
