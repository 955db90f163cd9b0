"""The callables a config may instantiate, by where they sit in the config.

Hydra instantiates whatever `_target_` names, so an override like `+callbacks.x._target_=torch.load`
would run it. Every `_target_` of every job (Hydra's own section included) must start with one of
the prefixes allowed at its place; anything else is refused before anything runs.

To instantiate a class of your own (a callback, a logger), add its module's prefix to the entry
of its config group below, e.g. "my_project.callbacks." under "callbacks".
"""

from omegaconf import DictConfig, ListConfig, OmegaConf

from ablation_lab.errors import ConfigError

ALLOWED_TARGETS: dict[str, tuple[str, ...]] = {
    "data": ("ablation_lab.data.",),
    "model": ("ablation_lab.models.",),
    "optim": ("torch.optim.",),  # optimizers and lr_scheduler classes
    "trainer": ("lightning.pytorch.Trainer", "lightning.Trainer"),
    "callbacks": (
        "lightning.pytorch.callbacks.",
        "ablation_lab.diagnostics.callback.",
        "ablation_lab.callbacks.",
    ),
    "logger": ("lightning.pytorch.loggers.", "ablation_lab.utils.tb_views."),
    # Hydra's launchers, sweepers and callbacks: its core plugins, installed plugins, ours, Optuna's
    "hydra": (
        "hydra._internal.core_plugins.",
        "hydra_plugins.",
        "ablation_lab.report.callback.",
        "optuna.samplers.",
        "optuna.pruners.",
    ),
}


def _targets(node, path: str):
    """(dotted key, target) of every `_target_` under `node`, without resolving interpolations."""
    if isinstance(node, DictConfig):
        for key in node.keys():
            child = node._get_node(key)
            where = f"{path}.{key}" if path else str(key)
            if key == "_target_":
                yield where, OmegaConf.to_container(node, resolve=False)["_target_"]
            elif isinstance(child, DictConfig | ListConfig):
                yield from _targets(child, where)
    elif isinstance(node, ListConfig):
        for i, child in enumerate(node._iter_ex(resolve=False)):
            if isinstance(child, DictConfig | ListConfig):
                yield from _targets(child, f"{path}[{i}]")


def check_targets(cfg: DictConfig) -> None:
    """Raise ConfigError for a `_target_` outside what its config group may instantiate."""
    for key, target in _targets(cfg, ""):
        group = key.split(".")[0].split("[")[0]
        allowed = ALLOWED_TARGETS.get(group, ())
        if not isinstance(target, str) or not target.startswith(allowed):
            where = (
                f"allowed there: {', '.join(p + '*' if p.endswith('.') else p for p in allowed)}"
                if allowed
                else "nothing may be instantiated there"
            )
            raise ConfigError(
                f"{key}={target} is not allowed ({where}); to extend the list see "
                f"src/ablation_lab/config/targets.py"
            )
