"""What a command line may remove with `~key`: entries of callbacks and logger, the scheduler, an
argument of the optimizer or scheduler; never what every run reads, never a class's `_target_` or
`_partial_` alone. Checked on the overrides as typed, before anything is composed (utils/preflight.py).
"""

from ablation_lab.errors import ConfigError

# Groups and entries a command line may delete (~key): the rest are needed by every run. An
# optimizer's or scheduler's argument may go, so that its class can be swapped on the command line
# (optim.optimizer._target_=torch.optim.RMSprop ~optim.optimizer.betas): what remains is checked
# against the class (config/target_args.py). A class's `_target_` or `_partial_` never goes alone.
DELETABLE = (
    "callbacks.",
    "logger.",
    "hydra.callbacks.",
    "tags",
    "experiment",
    "hparams_search",
    "debug",
    "optim.optimizer.",
    "optim.scheduler",  # the whole scheduler too: a constant learning rate
)
CLASS_KEYS = ("_target_", "_partial_")
READ_BY_EVERY_RUN = ("optim.optimizer.lr",)  # the HPARAMS row (utils/choices.py)


def check_deletion(override) -> None:
    """Raise ConfigError for a `~key` override that removes what a run needs."""
    key = override.key_or_group
    if not override.is_delete():
        return
    entry, _, last = key.rpartition(".")
    if last in CLASS_KEYS:
        raise ConfigError(f"~{key}: an entry keeps its {last}; remove the whole entry (~{entry}) or set it")
    if key in READ_BY_EVERY_RUN or not (key in ("callbacks", "logger") or key.startswith(DELETABLE)):
        raise ConfigError(
            f"~{key}: {key} cannot be removed, every run needs it; set it instead ({key}=<value>); "
            "what may be removed: an entry of callbacks or logger (e.g. ~callbacks.diagnostics), "
            "the scheduler, an argument of the optimizer or scheduler (e.g. ~optim.optimizer.betas)"
        )
