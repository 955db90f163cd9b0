"""The classes a config instantiates with its own keys get only arguments they take, and all they
need: checked against their signatures before a run. Hydra's instantiate would fail inside the run,
after its folder exists (`RMSprop.__init__() got an unexpected keyword argument 'betas'`).

Checked: the optimizer and the scheduler (built as partials: the code passes the parameters or the
optimizer first) and every callback and logger. The data and model nodes hold keys the lab reads
itself, and the trainer's keys are the schema's (config/schema.py).
"""

import inspect

from omegaconf import DictConfig, OmegaConf

from ablation_lab.errors import ConfigError

# node → positional arguments the code passes when it calls the partial
PARTIALS = {"optim.optimizer": 1, "optim.scheduler": 1}
GROUPS = ("callbacks", "logger")  # each entry is instantiated from its own keys
HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}


def _nodes(cfg: DictConfig):
    """(dotted key, node, positional arguments supplied by the code) of each node checked."""
    for key, supplied in PARTIALS.items():
        node = OmegaConf.select(cfg, key, default=None)
        if isinstance(node, DictConfig) and "_target_" in node:
            yield key, node, supplied
    for group in GROUPS:
        for name, node in (cfg.get(group) or {}).items():
            if isinstance(node, DictConfig) and "_target_" in node:
                yield f"{group}.{name}", node, 0


def check_target_arguments(cfg: DictConfig) -> None:
    """Raise ConfigError for a key the node's class does not take, or an argument it needs that the
    node lacks. Needs the targets resolvable (check_resolved_targets first)."""
    from hydra._internal.utils import _locate

    for where, node, supplied in _nodes(cfg):
        cls = _locate(node._target_)
        try:
            params = list(inspect.signature(cls).parameters.values())
        except (TypeError, ValueError):  # no signature to read (a C type)
            continue
        named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)][supplied:]
        names = [p.name for p in named]
        given = [str(k) for k in node.keys() if k not in HYDRA_KEYS]
        unknown = [k for k in given if k not in names]
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params):
            raise ConfigError(
                f"{where}.{unknown[0]}: {cls.__name__} takes no argument "
                f"{', '.join(repr(k) for k in unknown)} (it takes: {', '.join(names)}); remove "
                f"{'it' if len(unknown) == 1 else 'them'} with {' '.join(f'~{where}.{k}' for k in unknown)}"
            )
        if "_args_" not in node:
            for p in named:
                if p.default is p.empty and p.name not in given:
                    raise ConfigError(
                        f"{where}: {cls.__name__} needs '{p.name}'; add +{where}.{p.name}=<value>"
                    )
