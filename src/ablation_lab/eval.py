"""ablation-eval ckpt_path=...: test a checkpoint with the config it was trained with.

The training config and the preprocessing statistics travel inside the checkpoint, so a moved
checkpoint still evaluates exactly as it was trained (point data_root at the data if it moved).
Checkpoints are loaded weights-only: a file holding anything but tensors and plain containers is
refused (utils/checkpoints.py).
"""

import json
import sys
from pathlib import Path

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf

from ablation_lab.build import build_datamodule, build_model, build_module, check_config
from ablation_lab.config.validate import validate
from ablation_lab.errors import EXIT_FAILED, ConfigError
from ablation_lab.utils.atomic import write_text_atomic
from ablation_lab.utils.checkpoints import SafeCheckpointIO, load_checkpoint
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.run_record import one_line


def load_train_config(ckpt_path: str, ckpt: dict | None = None) -> DictConfig:
    """The resolved training config stored in a checkpoint by ablation-train."""
    ckpt = ckpt if ckpt is not None else load_checkpoint(ckpt_path)
    if "ablation_lab_config" not in ckpt:
        raise ConfigError(f"ckpt_path='{ckpt_path}' was not written by ablation-train (no config inside)")
    return OmegaConf.create(ckpt["ablation_lab_config"])


def check_eval(cfg: DictConfig) -> None:
    """The preflight of ablation-eval: the checkpoint loads safely, its config passes the schema, and
    its weights fit the model that config describes."""
    ckpt = load_checkpoint(cfg.ckpt_path)
    train_cfg = load_train_config(cfg.ckpt_path, ckpt)
    if cfg.get("data_root"):
        train_cfg.data.root = cfg.data_root
    validate(train_cfg, resolve_targets=True)  # the checkpoint is input: what it would instantiate, too
    check_config(train_cfg)
    net = build_model(train_cfg)
    weights = {k[4:]: v for k, v in ckpt.get("state_dict", {}).items() if k.startswith("net.")}
    try:
        net.load_state_dict(weights)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:200]
        raise ConfigError(
            f"ckpt_path='{cfg.ckpt_path}': its weights do not fit the model its config describes ({detail})"
        ) from err


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Metrics of `cfg.ckpt_path` on `cfg.split`; written to eval.json in the eval folder."""
    train_cfg = load_train_config(cfg.ckpt_path)
    if cfg.get("data_root"):
        train_cfg.data.root = cfg.data_root
    dm = build_datamodule(train_cfg)
    module = build_module(train_cfg, dm)
    trainer = L.Trainer(
        accelerator=cfg.accelerator,
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        plugins=[SafeCheckpointIO()],
    )
    run = trainer.test if cfg.split == "test" else trainer.validate
    results = run(module, datamodule=dm, ckpt_path=cfg.ckpt_path, verbose=False, weights_only=True)[0]
    out = Path(cfg.paths.output_dir)
    record = {"ckpt_path": str(cfg.ckpt_path), "split": cfg.split, "metrics": results}
    write_text_atomic(out / "eval.json", json.dumps(record, indent=2) + "\n")
    acc = results.get(f"{cfg.split}/acc", float("nan"))
    print(f"eval: {cfg.ckpt_path}  {cfg.split}/acc={acc:.4f}  ({out / 'eval.json'})")
    return results


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="eval")
def hydra_entry(cfg: DictConfig) -> None:
    try:
        evaluate(cfg)
    except Exception as err:
        print(f"ablation-eval: error: {one_line(err)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
