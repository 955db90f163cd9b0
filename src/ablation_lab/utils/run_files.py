"""What a finished run leaves beside its event files: metrics.json, and the config tree it printed."""

import json
import math
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from rich.console import Console
from rich.syntax import Syntax
from rich.tree import Tree

from ablation_lab.utils.atomic import write_text_atomic

METRICS_FILE = "metrics.json"


def _number(value) -> float | None:
    value = float(value.item() if hasattr(value, "item") else value)  # a tensor or a number
    return value if math.isfinite(value) else None


def write_metrics(run_dir: Path, metrics: dict, choices: dict, extra: dict | None = None) -> Path:
    """metrics.json: final metric values, the option chosen per group (plus seed), and `extra`."""
    record = {
        "metrics": {k: _number(v) for k, v in sorted(metrics.items())},
        "choices": choices,
        **(extra or {}),
    }
    return write_text_atomic(Path(run_dir) / METRICS_FILE, json.dumps(record, indent=2) + "\n")


def _yaml(node: DictConfig) -> str:
    try:
        return OmegaConf.to_yaml(node, resolve=True)
    except OmegaConfBaseException:  # e.g. ${hydra:runtime.output_dir} before a job starts
        return OmegaConf.to_yaml(node)


def print_config_tree(
    cfg: DictConfig, order=("data", "model", "activation", "init", "regularization", "optim", "trainer")
) -> None:
    """Print the composed config as a rich tree, one branch per group, the axes first."""
    tree = Tree("config", guide_style="dim")
    keys = [k for k in order if k in cfg] + [k for k in cfg if k not in order and k != "hydra"]
    for key in keys:
        node = cfg[key]
        body = _yaml(node) if isinstance(node, DictConfig) else str(node)
        tree.add(f"[bold]{key}[/bold]").add(Syntax(body.rstrip() or "{}", "yaml", theme="ansi_dark"))
    Console(stderr=True).print(tree)
