"""Which cell the others are compared with: the one named (`ablation-report --control`, or the sweep
callback's `control` in the config), else the cell whose every value is the config's default, read
from the conf tree (train.yaml's defaults, the experiment's overrides of them, the option's YAML)."""

from pathlib import Path

import yaml

from ablation_lab.report.runs import FINGERPRINT, Cell, Run
from ablation_lab.utils.cli import CONF_DIR

GROUPS = ("data", "model", "activation", "init", "optim", "regularization")


def _yaml(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def _dig(node, path: list[str]):
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _option_name(option) -> str:
    if isinstance(option, list):
        return "+".join(sorted(o for o in option if o != "none")) or "none"
    return str(option)


def _defaults(experiment: str | None, conf: Path) -> tuple[dict, dict]:
    """({group: default option}, the experiment's YAML) for a sweep of `experiment`."""
    chosen = {}
    for entry in _yaml(conf / "train.yaml").get("defaults", []):
        if isinstance(entry, dict):
            chosen.update({k: v for k, v in entry.items() if k in GROUPS})
    exp = _yaml(conf / "experiment" / f"{experiment}.yaml") if experiment else {}
    for entry in exp.get("defaults", []):
        if isinstance(entry, dict):
            for key, value in entry.items():
                group = key.removeprefix("override /")
                if group in GROUPS:
                    chosen[group] = value
    return chosen, exp


def default_value(key: str, experiment: str | None, conf: Path = CONF_DIR) -> str | None:
    """The value `key` (an axis of a sweep: a group, preprocess/augment, or a dotted knob) takes
    when the command line leaves it alone; None when the conf tree does not say."""
    chosen, exp = _defaults(experiment, conf)
    key = key.lstrip("+~")
    if key in GROUPS:
        return _option_name(chosen.get(key)) if key in chosen else None
    if key in ("preprocess", "augment"):
        key = f"data.{key}"
    path = key.split(".")
    value = _dig(exp, path)
    if value is None and path[0] in GROUPS and len(path) > 1:
        # a regularizer's YAML (regularization/<name>.yaml) nests its knobs under its name
        option = path[1] if path[0] == "regularization" else chosen.get(path[0])
        value = _dig(_yaml(conf / path[0] / f"{option}.yaml"), path[1:])
    if value is None:
        value = _dig(_yaml(conf / "train.yaml"), path)
    if value is None:
        return None
    return _option_name(value) if isinstance(value, list) else str(value)


def same(a: str, b: str) -> bool:
    """Two written values mean the same (0.5 = 0.50, 1 = 1.0)."""
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


def choose(cells: list[Cell], keys: list[str], named: str | None = None) -> tuple[int | None, str]:
    """(index of the control among `cells`, why): `named` ("key=value,..." or a cell's label) first,
    else the cell of defaults; (None, why not) when neither is there."""
    if named:
        wanted = dict(p.strip().partition("=")[::2] for p in named.split(",") if "=" in p)
        for i, cell in enumerate(cells):
            if cell.label == named or (
                wanted and all(k in cell.values and same(cell.values[k], v) for k, v in wanted.items())
            ):
                return i, f"{cell.label} (named)"
        return None, f"none: the named control '{named}' is not a cell of this sweep"
    if not keys or not cells:
        return None, "none: one cell"
    experiment = _experiment(cells[0].runs)
    keys = [k for k in keys if k != FINGERPRINT]  # data, not a choice: each fingerprint's cell stays apart
    if not keys:
        return None, "none: the cells differ only in the data they were trained on"
    defaults = {k: default_value(k, experiment) for k in keys}
    if any(v is None for v in defaults.values()):
        missing = ", ".join(k for k, v in defaults.items() if v is None)
        return None, f"none: no default for {missing} (name one: ablation-report --control <cell>)"
    for i, cell in enumerate(cells):
        if all(same(cell.values[k], defaults[k]) for k in keys):
            return i, f"{cell.label} (the config's defaults)"
    label = ", ".join(f"{k}={v}" for k, v in defaults.items())
    return None, f"none: the defaults' cell ({label}) is not in this sweep (name one: --control <cell>)"


def _experiment(runs: list[Run]) -> str | None:
    for run in runs:
        value = (run.record.get("overrides") or {}).get("experiment")
        if value:
            return str(value)
    return None
