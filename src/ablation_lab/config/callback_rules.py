"""Callbacks of a kind Lightning runs only once: a second progress bar made Lightning fail inside
the run, after its folder existed (`You added multiple progress bar callbacks to the Trainer`).
Read from what each `_target_` resolves to, so any ProgressBar subclass counts, under any key."""

from omegaconf import DictConfig

from ablation_lab.errors import ConfigError


def check_one_progress_bar(cfg: DictConfig) -> None:
    """Raise ConfigError when two entries of `callbacks` are progress bars that the run would keep
    (trainer.enable_progress_bar=false drops them all). Needs the targets resolvable."""
    from hydra._internal.utils import _locate
    from lightning.pytorch.callbacks import ProgressBar

    if (cfg.get("trainer") or {}).get("enable_progress_bar") is False:
        return
    bars = []
    for name, node in (cfg.get("callbacks") or {}).items():
        if isinstance(node, DictConfig) and "_target_" in node:
            cls = _locate(node._target_)
            if isinstance(cls, type) and issubclass(cls, ProgressBar):
                bars.append((f"callbacks.{name}", cls.__name__))
    if len(bars) > 1:
        (first, first_cls), (second, second_cls) = bars[:2]
        raise ConfigError(
            f"{first} ({first_cls}) and {second} ({second_cls}): Lightning runs one progress bar; "
            f"set {first}=null or {second}=null"
        )
