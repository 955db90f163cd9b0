"""ablation-train: compose the config, build data, model and trainer, fit, test the best checkpoint.

Every bad input is refused with one line before Hydra creates a run folder (utils/preflight.py).
A run that fails or diverges is recorded as such in its metrics.json (utils/run_record.py).
Under DDP every rank runs `train`; what only rank 0 does is in utils/rank_zero.py, how the other
ranks are started in utils/ddp.py, the trainer's devices, strategy and precision in utils/devices.py.
"""

import logging
from pathlib import Path

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ablation_lab.build import build_callbacks, build_datamodule, build_module, without_lightning_defaults
from ablation_lab.config.validate import validate
from ablation_lab.sweep.cells import finished, previous_record, resume_checkpoint
from ablation_lab.sweep.threads import apply_threads
from ablation_lab.utils import rank_zero
from ablation_lab.utils.checkpoints import BestWeights, SafeCheckpointIO
from ablation_lab.utils.choices import hparams_row, override_values
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.ddp import ddp_processes, in_sweep
from ablation_lab.utils.devices import trainer_options
from ablation_lab.utils.hook_dispatch import install as skip_empty_hooks
from ablation_lab.utils.hot_path import drop_failing_nvml_probe
from ablation_lab.utils.run_files import print_config_tree
from ablation_lab.utils.run_record import Diverged, multirun

log = logging.getLogger("ablation_lab")


def _overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def _best_checkpoint(trainer: L.Trainer) -> str | None:
    """The path of the best checkpoint by the monitored metric, None without one."""
    monitored = [c for c in trainer.checkpoint_callbacks if getattr(c, "monitor", None)]
    return (monitored[0].best_model_path or None) if monitored else None


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit and test one run (every rank of a DDP run); returns its final metrics (also written to
    metrics.json, by rank 0: utils/rank_zero.py)."""
    validate(cfg, resolve_targets=True)  # also when called from Python, not only through the CLI
    drop_failing_nvml_probe()  # a CPU-only machine: no failing NVML load in every optimizer step
    skip_empty_hooks()  # Lightning calls every callback's empty hooks on every step
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    dm = build_datamodule(cfg)
    module = build_module(cfg, dm)
    sweep = in_sweep()  # a sweep's jobs print one line each, not a progress bar
    # a DDP child of a sweep's cell runs as a single run: it has no hydra.job.num (None)
    job = OmegaConf.select(HydraConfig.get(), "job.num", default=None) if sweep else None
    callbacks = build_callbacks(cfg, module.plan, sweep, job)
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    options = trainer_options(cfg, sweep, _launcher()) | without_lightning_defaults(cfg, callbacks)
    trainer: L.Trainer = instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False, plugins=[SafeCheckpointIO()], **options
    )
    hparams = hparams_row(cfg, _overrides())
    rank_zero.open_boards(loggers, hparams)
    with ddp_processes(trainer, sweep):
        trainer.fit(module, datamodule=dm, ckpt_path=resume_checkpoint(cfg), weights_only=True)
        if module.diverged:
            raise Diverged(f"train/loss became {module.diverged}")
        metrics = dict(trainer.callback_metrics)
        if "val/acc_best" not in metrics and module.best_val_acc() is not None:  # resumed after the end
            metrics["val/acc_best"] = torch.tensor(module.best_val_acc())
        best = _best_checkpoint(trainer)
        in_memory = [c.state for c in callbacks if isinstance(c, BestWeights) and c.state is not None]
        if best is None and in_memory:
            module.load_state_dict(in_memory[0])
        trainer.test(module, datamodule=dm, ckpt_path=best, verbose=False, weights_only=True)
    metrics.update(trainer.callback_metrics)
    extra = {
        "overrides": override_values(_overrides()),
        "best_checkpoint": best,
        "epochs": trainer.current_epoch,
        "hparams": hparams,
        "data_fingerprint": dm.fingerprint,  # a report pools only runs made on the same data
        "test_size": len(dm.test.y),  # images behind test/acc: the report's evaluation-noise floor
    }
    return rank_zero.finish(cfg, trainer, module, metrics, extra)


def _launcher() -> DictConfig | None:
    """The launcher of a sweep job (None for a single run): how many jobs share this machine."""
    return HydraConfig.get().launcher if multirun() else None


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def hydra_entry(cfg: DictConfig) -> float | None:
    out = Path(cfg.paths.output_dir)
    if finished(out):  # a resumed sweep keeps its finished cells as they are
        record = previous_record(out)
        log.info("cell %s finished before (%s); kept as it is", out, record["status"])
        return record["metrics"].get("val/acc_best")
    logging.captureWarnings(True)  # into train.log (job_logging): none the user can act on
    launcher = _launcher()
    log.info(apply_threads(cfg.get("threads", "auto"), launcher))
    if launcher is None and rank_zero.is_rank_zero():  # a sweep prints it once (utils/cli.py)
        print_config_tree(cfg)
    metrics = rank_zero.run("ablation-train", cfg, train, _overrides())
    return None if metrics is None else metrics.get("val/acc_best")
