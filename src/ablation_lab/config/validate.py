"""Check a composed config (one job) against the schema: every key known, every value of its type
and range, the knobs consistent with each other, every `_target_` allowed, the logging sections
plain. No torch (unless targets are resolved)."""

from dataclasses import replace

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from ablation_lab.config.callback_rules import check_callbacks
from ablation_lab.config.logging_rules import check_logging
from ablation_lab.config.process_rules import check_process
from ablation_lab.config.relations import check_relations
from ablation_lab.config.schema import knob, known, spec_of
from ablation_lab.config.targets import check_resolved_targets, check_targets
from ablation_lab.errors import ConfigError


def _leaves(node: DictConfig, path: str = ""):
    for key in node.keys():
        where = f"{path}.{key}" if path else str(key)
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_none() and not child._is_interpolation():
            yield from _leaves(child, where)
        else:
            yield where


def _interpolated(cfg: DictConfig, key: str) -> bool:
    parent, _, leaf = key.rpartition(".")
    return OmegaConf.is_interpolation(OmegaConf.select(cfg, parent) if parent else cfg, leaf)


def unknown_key(cfg: DictConfig, key: str) -> str:
    """The message for a key the config may not hold, with the keys its parent does have."""
    parent = key.rpartition(".")[0]
    node = OmegaConf.select(cfg, parent) if parent else cfg
    names = (
        sorted(str(k) for k in node.keys() if not str(k).startswith("_"))
        if isinstance(node, DictConfig)
        else []
    )
    names = [n for n in names if f"{parent}.{n}".lstrip(".") != key]
    return f"unknown key '{key}'" + (f"; {parent or 'the config'} has: {', '.join(names)}" if names else "")


def check_safety(cfg: DictConfig) -> None:
    """What must hold even for a command that only prints (--help, --cfg): nothing in `cfg` names
    code to run or a file to open (targets, logging sections), no environment variable or shell line
    a run's processes would act on. No torch."""
    check_targets(cfg)
    check_logging(cfg)
    check_process(cfg)


def validate(cfg: DictConfig, resolve_targets: bool = False) -> None:
    """Raise ConfigError (one line) for the first key or value of `cfg` that cannot work; with
    `resolve_targets` (torch-side), each `_target_` is also resolved and its class checked."""
    check_safety(cfg)
    if resolve_targets:
        check_resolved_targets(cfg)
    keys = [k for k in _leaves(cfg) if k != "hydra" and not k.startswith("hydra.")]
    for key in keys:
        if not known(key):
            raise ConfigError(unknown_key(cfg, key))
    keys.sort(key=lambda k: _interpolated(cfg, k))  # a bad value is named where it is set, not where copied
    for key in keys:
        spec = spec_of(key)
        if spec is None:
            continue
        if "." not in key and OmegaConf.is_missing(cfg, key):  # ??? : a value the user must give
            raise ConfigError(f"{key} is missing; it must be {replace(spec, nullable=False).describe()}")
        try:
            value = OmegaConf.select(cfg, key, throw_on_resolution_failure=True)
        except InterpolationResolutionError:  # e.g. ${hydra:runtime.output_dir}, set once a run starts
            continue
        knob(key, value)
    check_relations(cfg)
    if resolve_targets:  # last: builds the callbacks, from values checked above
        check_callbacks(cfg)
