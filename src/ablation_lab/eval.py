"""ablation-eval ckpt_path=...: test a checkpoint with the config it was trained with.

The training config and the preprocessing statistics travel inside the checkpoint, so a moved
checkpoint still evaluates exactly as it was trained (point data_root at the data if it moved).
"""

import json
import sys
from pathlib import Path

import hydra
import lightning as L
import torch
from omegaconf import DictConfig, OmegaConf

from ablation_lab.build import build_datamodule, build_module
from ablation_lab.errors import ConfigError, check_choice
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.resolvers import register_resolvers

PATH_KEYS = ("ckpt_path", "data_root")


def load_train_config(ckpt_path: str) -> DictConfig:
    """The resolved training config stored in a checkpoint by ablation-train."""
    if not Path(ckpt_path).is_file():
        raise ConfigError(f"ckpt_path='{ckpt_path}' is not a file; pass a .ckpt from a run's checkpoints/")
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    if "ablation_lab_config" not in ckpt:
        raise ConfigError(f"ckpt_path='{ckpt_path}' was not written by ablation-train (no config inside)")
    return OmegaConf.create(ckpt["ablation_lab_config"])


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Metrics of `cfg.ckpt_path` on `cfg.split`; written to eval.json in the eval folder."""
    check_choice("split", cfg.split, {"test", "val"})
    train_cfg = load_train_config(cfg.ckpt_path)
    if cfg.get("data_root"):
        train_cfg.data.root = cfg.data_root
    dm = build_datamodule(train_cfg)
    module = build_module(train_cfg, dm)
    trainer = L.Trainer(accelerator=cfg.accelerator, devices=1, logger=False, enable_progress_bar=False)
    run = trainer.test if cfg.split == "test" else trainer.validate
    results = run(module, datamodule=dm, ckpt_path=cfg.ckpt_path, verbose=False)[0]
    out = Path(cfg.paths.output_dir)
    record = {"ckpt_path": str(cfg.ckpt_path), "split": cfg.split, "metrics": results}
    (out / "eval.json").write_text(json.dumps(record, indent=2) + "\n")
    acc = results.get(f"{cfg.split}/acc", float("nan"))
    print(f"eval: {cfg.ckpt_path}  {cfg.split}/acc={acc:.4f}  ({out / 'eval.json'})")
    return results


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="eval")
def _hydra_main(cfg: DictConfig) -> None:
    try:
        evaluate(cfg)
    except ConfigError as err:
        sys.exit(f"ablation-eval: error: {err}")


def _quote_paths(args: list[str]) -> list[str]:
    """Quote path values: run folders are named `key=value,...`, which Hydra's grammar would parse."""
    quoted = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key in PATH_KEYS and not value.startswith(("'", '"')):
            arg = f"{key}='{value.replace(chr(39), chr(92) + chr(39))}'"
        quoted.append(arg)
    return quoted


def main() -> None:
    register_resolvers()
    sys.argv[1:] = _quote_paths(sys.argv[1:])
    _hydra_main()


if __name__ == "__main__":
    main()
