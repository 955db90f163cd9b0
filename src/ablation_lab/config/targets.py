"""The classes a config may instantiate, by where they sit in the config.

Hydra instantiates whatever `_target_` names and finds it by importing the longest module prefix
and then walking attributes, so a string that *starts* like an allowed module can end anywhere:
`ablation_lab.diagnostics.callback.torch.load` is `torch.load`. Two checks close that:

- `check_targets` (no torch, every job): each `_target_` sits at a place that may instantiate
  something, is a plain dotted name (no interpolation, no dunder) under one of that place's
  packages; whole nodes built from strings (`oc.create`, `oc.decode`) are refused.
- `check_resolved_targets` (the torch-side stage, and again when a run starts): each `_target_`
  is resolved the way Hydra resolves it, and what it resolves to must be a class of the place's
  kind (a Lightning Callback under `callbacks`, an optimizer under `optim.optimizer`, ...) whose
  own module is one of the place's packages. A function (`torch.load`, `os.system`) never is.

To instantiate a class of your own (a callback, a logger), add its package to the place below.
"""

import fnmatch
import inspect
import re

from omegaconf import DictConfig, ListConfig, OmegaConf

from ablation_lab.config.target_args import check_target_arguments
from ablation_lab.errors import ConfigError

# place (the dotted key of the node holding `_target_`, fnmatch pattern) → (packages the class may
# come from, the base classes it must subclass). The first matching place wins.
PLACES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("data", ("ablation_lab.data.",), ("lightning.pytorch.LightningDataModule",)),
    ("model", ("ablation_lab.models.",), ("torch.nn.Module",)),
    ("optim.optimizer", ("torch.optim.",), ("torch.optim.Optimizer",)),
    ("optim.scheduler", ("torch.optim.",), ("torch.optim.lr_scheduler.LRScheduler",)),
    ("trainer", ("lightning.pytorch.trainer.",), ("lightning.pytorch.Trainer",)),
    ("trainer.strategy", ("lightning.pytorch.strategies.",), ("lightning.pytorch.strategies.Strategy",)),
    ("trainer.strategy.timeout", ("datetime",), ("datetime.timedelta",)),
    (
        "callbacks.*",
        ("lightning.pytorch.callbacks.", "ablation_lab."),
        ("lightning.pytorch.callbacks.Callback",),
    ),
    ("logger.*", ("lightning.pytorch.loggers.", "ablation_lab."), ("lightning.pytorch.loggers.Logger",)),
    (
        "hydra.launcher",
        ("hydra._internal.core_plugins.", "hydra_plugins."),
        ("hydra.plugins.launcher.Launcher",),
    ),
    (
        "hydra.sweeper",
        ("hydra._internal.core_plugins.", "hydra_plugins."),
        ("hydra.plugins.sweeper.Sweeper",),
    ),
    ("hydra.sweeper.sampler", ("optuna.samplers.",), ("optuna.samplers.BaseSampler",)),
    ("hydra.sweeper.pruner", ("optuna.pruners.",), ("optuna.pruners.BasePruner",)),
    ("hydra.callbacks.*", ("ablation_lab.report.callback.",), ("hydra.experimental.callback.Callback",)),
]
# Hydra's record of the command line (strings, checked where each override lands).
_RECORDS = ("hydra.overrides", "hydra.job.override_dirname")
_DOTTED = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Resolvers that turn a string into config nodes: a `_target_` could hide in what they return.
_NODE_BUILDERS = re.compile(r"\$\{\s*oc\.(create|decode)\s*:")
# The project's resolvers return strings and numbers, and some have effects (claim a folder, import
# torch): interpolations that use them are not resolved for the check.
_SCALAR_RESOLVERS = re.compile(
    r"\$\{\s*(task_folder|parallel_jobs|gpus_per_run|job_folder|project_help|config_subdir|unique_dir|"
    r"short_overrides|now)\s*:"
)


def place_of(where: str):
    """The (packages, bases) allowed for a `_target_` in the node at dotted key `where`, or None."""
    for pattern, packages, bases in PLACES:
        if fnmatch.fnmatchcase(where, pattern) and "[" not in where:
            return packages, bases
    return None


def _refuse(where: str, target, why: str) -> ConfigError:
    allowed = place_of(where)
    places = (
        f"allowed there: classes from {', '.join(allowed[0])}"
        if allowed
        else "nothing may be instantiated there"
    )
    return ConfigError(
        f"{where}._target_={target} {why} ({places}); to extend the list see "
        "src/ablation_lab/config/targets.py"
    )


def _walk(node, path: str, resolve: bool):
    """(dotted key of the node, `_target_` value) of every `_target_` under `node`; with `resolve`,
    interpolated nodes are followed into what they resolve to (when they resolve yet)."""
    if isinstance(node, DictConfig):
        if node._is_none() or node._is_missing():
            return
        for key in node.keys():
            child = node._get_node(key)
            where = f"{path}.{key}" if path else str(key)
            if where in _RECORDS:
                continue
            if key == "_target_":
                value = node[key] if resolve else OmegaConf.to_container(node, resolve=False)["_target_"]
                yield path, value
                continue
            yield from _child(node, key, child, where, resolve)
    elif isinstance(node, ListConfig):
        if node._is_none() or node._is_missing():
            return
        for i in range(len(node)):
            yield from _child(node, i, node._get_node(i), f"{path}[{i}]", resolve)


def _child(parent, key, child, where: str, resolve: bool):
    if child is not None and child._is_interpolation():
        text = str(child._value())
        if _NODE_BUILDERS.search(text):
            raise ConfigError(
                f"{where}={text} builds config from a string, which could name code; give the values"
            )
        if resolve and not _SCALAR_RESOLVERS.search(text):
            try:
                value = parent[key]
            except Exception:  # resolves only once a run starts (e.g. ${hydra:runtime.output_dir})
                return
            if isinstance(value, DictConfig | ListConfig):
                yield from _walk(value, where, resolve)
        return
    if isinstance(child, DictConfig | ListConfig):
        yield from _walk(child, where, resolve)


def _check_name(where: str, target) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The place's (packages, bases) if `target` may stand there as written (no import)."""
    allowed = place_of(where)
    if allowed is None:
        raise _refuse(where, target, "is not allowed")
    if not isinstance(target, str) or not _DOTTED.match(target) or "__" in target:
        raise _refuse(where, target, "is not a plain dotted name")
    if target.split(".")[0] not in {p.split(".")[0] for p in allowed[0]}:  # import nothing else
        raise _refuse(where, target, "is not allowed")
    return allowed


def check_targets(cfg: DictConfig) -> None:
    """Raise ConfigError for a `_target_` at a place that may not instantiate, or not a plain name
    from one of the place's packages (no torch: the command line answers at once); interpolated
    nodes are checked as written and, where they resolve already, as resolved."""
    for where, target in _walk(cfg, "", resolve=False):
        _check_name(where, target)
    for where, target in _walk(cfg, "", resolve=True):
        _check_name(where, target)


def _qualified(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _check_class(where: str, target: str, packages: tuple[str, ...], bases: tuple[str, ...]) -> None:
    from hydra._internal.utils import _locate

    try:
        obj = _locate(target)
    except Exception as err:
        raise _refuse(where, target, f"cannot be found ({type(err).__name__})") from err
    name = _qualified(obj)
    if not inspect.isclass(obj):
        raise _refuse(where, target, f"resolves to {name}, which is not a class")
    module = str(obj.__module__)
    if not any(module == p.rstrip(".") or module.startswith(p) for p in packages):
        raise _refuse(where, target, f"resolves to {name}, outside the allowed packages")
    kinds = [_locate(base) for base in bases]
    if not any(issubclass(obj, kind) for kind in kinds):
        what = " or ".join(_qualified(k) for k in kinds)
        raise _refuse(where, target, f"resolves to {name}, which is not a {what}")


def check_resolved_targets(cfg: DictConfig) -> None:
    """Raise ConfigError unless every `_target_` of `cfg` resolves (as Hydra resolves it) to a class
    of its place's kind from its place's packages; imports those packages (torch, Lightning).
    Callers run check_targets first (validate's check_safety): the names as written."""
    for where, target in _walk(cfg, "", resolve=True):
        _check_class(where, target, *_check_name(where, target))
    check_target_arguments(cfg)
