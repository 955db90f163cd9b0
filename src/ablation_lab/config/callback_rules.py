"""Callbacks that Lightning refuses together, refused before the run: Lightning raised inside it,
after its folder existed. It runs one progress bar (`You added multiple progress bar callbacks`),
and keeps one saved state per state key (`Found more than one stateful callback of type
StepCheckpoint`: a user's ModelCheckpoint() next to the policy's last.ckpt). Checked on the
callbacks as the run builds them, by what each `_target_` resolves to, under any key.
"""

from pathlib import Path

from omegaconf import DictConfig

from ablation_lab.errors import ConfigError


def check_callbacks(cfg: DictConfig, sweep: bool = True) -> None:
    """Raise ConfigError for two progress bars the run would keep, or two callbacks that save their
    state under one key. Needs the targets resolvable and the values checked (validate's last step).
    `sweep`: check the callbacks of a sweep's cell, what every run of `cfg` has; the CLI checks a
    run on its own (sweep=False: checkpoints=auto adds the best checkpoint) once it knows it is one."""
    entries = _built(cfg, sweep)
    if (cfg.get("trainer") or {}).get("enable_progress_bar") is not False:
        _check_one_progress_bar(entries)
    _check_state_keys(entries)


def _built(cfg: DictConfig, sweep: bool) -> list[tuple[str, object]]:
    """(where it comes from, callback): the checkpoint policy's (auto: last for a sweep's cell,
    best and last for a run on its own), early stopping's, then the `callbacks` group's (a clash
    names the user's entry)."""
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping

    from ablation_lab.techniques.regularizers import build_regularization
    from ablation_lab.utils.checkpoints import checkpoint_callbacks

    policy = cfg.get("checkpoints", "auto")
    policy_callbacks = checkpoint_callbacks(policy, Path("checkpoints"), sweep)
    entries = [(f"checkpoints={policy}", c) for c in policy_callbacks]
    stopping = build_regularization(cfg.get("regularization")).early_stopping
    if stopping:
        entries.append(("regularization=early_stopping", EarlyStopping(**stopping)))
    for name, node in (cfg.get("callbacks") or {}).items():
        if isinstance(node, DictConfig) and "_target_" in node:
            try:
                entries.append((f"callbacks.{name}", instantiate(node)))
            except Exception:  # what cannot be built here is the run's to report
                continue
    return entries


def _check_one_progress_bar(entries: list[tuple[str, object]]) -> None:
    from lightning.pytorch.callbacks import ProgressBar

    bars = [(where, type(c).__name__) for where, c in entries if isinstance(c, ProgressBar)]
    if len(bars) > 1:
        (first, first_cls), (second, second_cls) = bars[:2]
        raise ConfigError(
            f"{first} ({first_cls}) and {second} ({second_cls}): Lightning runs one progress bar; "
            f"set {first}=null or {second}=null"
        )


def _check_state_keys(entries: list[tuple[str, object]]) -> None:
    from lightning.pytorch.callbacks import Callback
    from lightning.pytorch.utilities.model_helpers import is_overridden

    seen: dict[str, str] = {}
    for where, callback in entries:
        if not is_overridden("state_dict", instance=callback, parent=Callback):
            continue
        key = callback.state_key
        if key in seen:
            raise ConfigError(
                f"{where} ({type(callback).__name__}) saves its state under the same key as {seen[key]}'s, "
                f"{key}, and Lightning keeps one state per key; give {where} other arguments or remove it"
            )
        seen[key] = where
