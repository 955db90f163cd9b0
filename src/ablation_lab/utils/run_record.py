"""A run's outcome is data: metrics.json says `running` from the start, then `done`, `diverged`,
`failed` or `interrupted`, with the error in one line; the traceback goes to the run's train.log.
A cell of a sweep that fails does not stop the sweep; the CLI's exit status reports it."""

import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ablation_lab.errors import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM
from ablation_lab.sweep.cells import finished
from ablation_lab.utils.choices import chosen_options, override_values
from ablation_lab.utils.run_files import write_metrics

log = logging.getLogger("ablation_lab")
# Run folders of this process whose run did not finish (failed or diverged): the exit status.
FAILED: list[str] = []


class Diverged(RuntimeError):
    """The training loss became non-finite; training stopped at the end of that epoch."""


class Terminated(SystemExit):
    """SIGTERM (SLURM preemption, `timeout`, `kill`): the run stops, records itself and the process
    exits 143 (128 + 15), as shells and schedulers expect of a terminated job."""

    def __init__(self) -> None:
        super().__init__(EXIT_SIGTERM)


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def _handle_sigterm(handler):
    """Install `handler` for SIGTERM and return the one before (None off the main thread, where
    Python cannot handle signals: some launchers' workers)."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def _interruption(err: BaseException) -> tuple[str, int] | None:
    """(what interrupted, exit status) for an interrupt, None for another exit. Lightning turns
    SIGTERM into its SIGTERMException (exit 0) and Ctrl-C into sys.exit(1): both are interrupts."""
    if isinstance(err, Terminated) or type(err).__name__ == "SIGTERMException":
        return "SIGTERM", EXIT_SIGTERM
    if isinstance(err, KeyboardInterrupt) or isinstance(err.__context__, KeyboardInterrupt):
        return "KeyboardInterrupt", EXIT_SIGINT
    return None


def one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _record(cfg: DictConfig, overrides: list[str], status: str, error: str | None = None) -> None:
    choices = chosen_options(cfg) | {"seed": int(cfg.seed)}
    extra = {"status": status, "overrides": override_values(overrides)}
    if status == "running":  # a killed run keeps this: its pid tells it apart from a live one
        extra |= {"pid": os.getpid(), "host": socket.gethostname()}
    if error:
        extra["error"] = error
    write_metrics(Path(cfg.paths.output_dir), {}, choices, extra)


def multirun() -> bool:
    """Whether this process runs a job of a sweep (-m)."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def run_recorded(tool: str, cfg: DictConfig, fit: Callable[[DictConfig], dict], overrides: list[str]):
    """`fit(cfg)`, its outcome recorded; None when it failed or diverged (a single run then exits 1)."""
    _record(cfg, overrides, "running")
    previous = _handle_sigterm(_on_sigterm)  # Lightning calls it too, during fit
    try:
        return fit(cfg)
    except (KeyboardInterrupt, SystemExit) as err:
        interruption = _interruption(err)
        if interruption is None:
            raise
        what, status = interruption
        if not finished(cfg.paths.output_dir):  # an interrupt after the run recorded `done` changes nothing
            _record(cfg, overrides, "interrupted", what)
            log.error(
                "run interrupted (%s); resume: ablation-train ckpt_path=<run>/checkpoints/last.ckpt", what
            )
        raise SystemExit(status) from None
    except Exception as err:
        status = "diverged" if isinstance(err, Diverged) else "failed"
        log.error("run %s: %s\n%s", status, one_line(err), traceback.format_exc())
        _record(cfg, overrides, status, one_line(err))
        FAILED.append(str(cfg.paths.output_dir))
        where = f"run folder {cfg.paths.output_dir}; traceback in train.log"
        print(f"{tool}: {status}: {one_line(err)} ({where})", file=sys.stderr)
        if not multirun():
            sys.exit(EXIT_FAILED)
        return None
    finally:
        _handle_sigterm(previous)
