"""What only rank 0 of a run does, in one place: under DDP every rank runs train(), and one of them
writes the run's files. Rank 0 writes the config tree, the HPARAMS row and "Results" layout, the
outcome record (metrics.json, running → done/failed), preprocess.pt and the lean last.ckpt, and
prints the run's line; Lightning's loggers and checkpoint callbacks write on rank 0 by themselves.
Another rank records only its own failure, over a `running` record (rank 0 is then ended by
Lightning's launcher), never over rank 0's outcome."""

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import torch
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig

from ablation_lab.errors import EXIT_FAILED
from ablation_lab.sweep.cells import previous_record
from ablation_lab.utils.checkpoints import make_lean
from ablation_lab.utils.choices import chosen_options, override_values
from ablation_lab.utils.run_files import write_metrics
from ablation_lab.utils.run_record import one_line, run_recorded
from ablation_lab.utils.tb_views import results_layout, session_end, session_start

log = logging.getLogger("ablation_lab")
# Set by Lightning's DDP launcher (LOCAL_RANK, NODE_RANK), torchrun (RANK) or SLURM (SLURM_PROCID).
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "NODE_RANK", "LOCAL_RANK")


def rank() -> int:
    """This process's rank as its launcher set it (0 for a process of its own): known before the
    trainer exists. Any nonzero variable makes it a rank above 0."""
    values = [int(os.environ.get(name) or 0) for name in RANK_VARIABLES]
    return next((v for v in values if v), 0)


def is_rank_zero() -> bool:
    return rank() == 0


def run(tool: str, cfg: DictConfig, fit: Callable[[DictConfig], dict], overrides: list[str]):
    """`fit(cfg)` with its outcome recorded by rank 0 (utils/run_record.py); on another rank only
    its failure is recorded, with its rank, before the process exits with status 1."""
    if is_rank_zero():
        return run_recorded(tool, cfg, fit, overrides)
    try:
        return fit(cfg)
    except Exception as err:
        error = f"rank {rank()}: {one_line(err)}"
        log.error("run failed: %s\n%s", error, traceback.format_exc())
        out = Path(cfg.paths.output_dir)
        if (previous_record(out) or {}).get("status") == "running":  # rank 0's own outcome stands
            choices = chosen_options(cfg) | {"seed": int(cfg.seed)}
            extra = {"status": "failed", "overrides": override_values(overrides), "error": error}
            write_metrics(out, {}, choices, extra)
        print(f"{tool}: failed: {error} (run folder {cfg.paths.output_dir})", file=sys.stderr)
        sys.exit(EXIT_FAILED)


def boards(loggers: list) -> list:
    """The TensorBoard writers of rank 0 (other ranks' loggers hold no writer)."""
    return [lg.experiment for lg in loggers if isinstance(lg, TensorBoardLogger)] if is_rank_zero() else []


def open_boards(loggers: list, hparams: dict) -> None:
    """The run's HPARAMS row (its session start) and the Custom Scalars "Results" layout."""
    for board in boards(loggers):
        session_start(board, hparams)
        results_layout(board)


def finish(cfg: DictConfig, trainer, module, metrics: dict, extra: dict) -> dict[str, float]:
    """The end of a finished run: HPARAMS session end, preprocess.pt, the lean last.ckpt and, last,
    metrics.json with status done. Returns the final metrics (on every rank)."""
    final = {k: float(v) for k, v in metrics.items()}
    if trainer.world_size > 1:  # each rank's own log: the steps it took (all ranks take the same)
        steps = (trainer.global_rank, trainer.global_step, trainer.current_epoch)
        log.info("rank %d: %d optimizer steps in %d epochs", *steps)
    if not is_rank_zero():
        return final
    for board in boards(trainer.loggers):
        session_end(board)
    out = Path(cfg.paths.output_dir)
    torch.save(module.preprocess.state_dict(), out / "preprocess.pt")  # train-split statistics
    if (out / "checkpoints" / "last.ckpt").is_file():  # finished: a resume no longer needs the optimizer
        make_lean(out / "checkpoints" / "last.ckpt")
    choices = chosen_options(cfg) | {"seed": int(cfg.seed)}
    extra = {"status": "done", **extra} | placement(cfg, trainer)
    for callback in trainer.callbacks:  # e.g. the diagnostics' step-0 numbers
        extra |= callback.metrics_json() if hasattr(callback, "metrics_json") else {}
    write_metrics(out, metrics, choices, extra)  # status done: the last thing a finished run writes
    print(
        f"run: {out}  val/acc_best={final.get('val/acc_best', float('nan')):.4f}  "
        f"test/acc={final.get('test/acc', float('nan')):.4f}"
    )
    return final


def placement(cfg: DictConfig, trainer) -> dict:
    """How the run ran, for metrics.json: the precision actually used, the processes, the steps each
    took, and the batch per device and per optimizer step (per-device batch × processes ×
    accumulated batches)."""
    batch = int(cfg.data.batch_size)
    effective = batch * trainer.world_size * trainer.accumulate_grad_batches
    return {
        "precision": str(trainer.precision),
        "world_size": trainer.world_size,
        "steps": trainer.global_step,
        "batch_size": {"per_device": batch, "effective": effective},
    }
