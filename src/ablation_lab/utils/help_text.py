"""`ablation-train --help`: the axes and their options (read from conf/, so a new option shows up by
itself), the knobs worth knowing, and example commands. Experiment-private groups (conf/experiment/
case/) and Hydra's own groups stay out; `--hydra-help` shows Hydra's."""

import textwrap
from pathlib import Path

import yaml

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"
AXES = {
    "data": "dataset",
    "model": "network",
    "activation": "non-linearity",
    "init": "weight initialization",
    "regularization": "composable: regularization=[dropout,batchnorm]",
    "optim": "optimizer and schedule",
    "experiment": "a ready-made sweep: -m experiment=<name>",
    "hparams_search": "an Optuna search: -m hparams_search=<name>  (pip install -e '.[optuna]')",
    "trainer": "Lightning Trainer preset (any Trainer argument: trainer.<arg>=...)",
    "logger": "tensorboard, csv, or both: logger=[tensorboard,csv]",
    "debug": "fdr (one batch of everything), limit, overfit",
    "hydra/launcher": "parallel or cluster sweeps  (pip install -e '.[launchers]')",
}


def _defaults() -> dict[str, str]:
    listed = yaml.safe_load((CONF_DIR / "train.yaml").read_text())["defaults"]
    out = {}
    for entry in listed:
        if isinstance(entry, dict):
            for group, option in entry.items():
                out[group] = ",".join(option) if isinstance(option, list) else str(option)
    return out


def _axes() -> list[str]:
    defaults = _defaults()
    lines = []
    for group, what in AXES.items():
        options = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
        default = defaults.get(group)
        shown = " ".join(f"[{o}]" if o == default else o for o in options)
        indent = " " * 18
        wrapped = textwrap.fill(shown, width=100, initial_indent=indent, subsequent_indent=indent)
        lines.append(f"  {group:15s} {what}\n{wrapped}")
    return lines


TRAIN = """ablation-train: every technique of the one-time setup of training as one command-line axis.

Usage:
  ablation-train [group=option ...] [group.knob=value ...]     one run, in logs/runs/
  ablation-train -m group=a,b group.knob=x,y seed=0,1,2        one run per cell: a sweep, in logs/multiruns/

Axes (group=option, [default]):
{axes}

Knobs: group.knob=value, e.g. regularization.dropout.p=0.3 data.batch_size=128 optim.optimizer.lr=1e-3;
  each option's knobs and defaults: conf/<group>/<option>.yaml, or ablation-train <overrides> --cfg job
  seed=0  threads=auto|N  checkpoints=auto|both|best|last|none  ckpt_path=<run>/checkpoints/last.ckpt (resume)

Examples:
  ablation-train activation=gelu init=kaiming_normal model=cnn
  ablation-train -m activation=relu,gelu,selu init=xavier_normal,kaiming_normal seed=0,1,2
  ablation-train -m hydra/launcher=joblib experiment=regularizers
  ablation-report logs/multiruns/<sweep>          (written by itself when a sweep ends)

Bad values are refused before anything runs (exit 2); a failed run exits 1.
Hydra's own flags: --cfg job, --info, -sc install=bash, --hydra-help."""

EVAL = """ablation-eval ckpt_path=<run>/checkpoints/<file>.ckpt [split=test|val] [data_root=<folder>]
  Tests a checkpoint with the config and preprocessing statistics stored inside it; writes
  logs/evals/<...>/eval.json. Only tensors and plain containers are loaded from a checkpoint."""

DIAGNOSE = """ablation-diagnose [the overrides of ablation-train]
  One batch through the freshly initialized model, no training: per-layer activation histograms
  (activations.png), activation std (std.png), stats.json and the per-layer table.
  e.g. ablation-diagnose model=plain_deep activation=tanh init=normal init.std=0.01"""


def project_help(task_name: str) -> str:
    """Resolver for hydra.help.template."""
    if task_name == "eval":
        return EVAL
    text = TRAIN.format(axes="\n".join(_axes()))
    return DIAGNOSE + "\n\n" + text if task_name == "diagnose" else text
