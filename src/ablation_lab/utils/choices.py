"""The option chosen in each config group of a run: the keys of its summary and its HPARAMS row."""

from omegaconf import DictConfig

# Overrides that say where or how a run ran, not what it measured: never an arm of a sweep (cell
# keys, HPARAMS columns, folder names).
NOT_ARMS = (
    "hydra",
    "paths",
    "callbacks",
    "logger",
    "data.root",
    "data.download",
    "trainer.accelerator",
    "ckpt_path",
    "checkpoints",
    "threads",
    "jobs_per_gpu",
    "ddp_timeout_s",
)


def is_arm(key: str) -> bool:
    """Whether an override key can tell two arms of an ablation apart."""
    return bool(key) and not key.lstrip("+~").startswith(NOT_ARMS)


def chosen_options(cfg: DictConfig) -> dict[str, str]:
    """{group: option} for every axis, plus the preprocessing and augmentation of the data.

    Read from the config itself (each option names itself), so it works the same under the CLI,
    in tests that compose the config, and in `ablation-eval`.
    """
    reg = sorted((cfg.get("regularization") or {}).keys())
    augment = cfg.data.get("augment") or "none"
    return {
        "data": str(cfg.data.name),
        "model": str(cfg.model.name),
        "activation": str(cfg.activation.name),
        "init": str(cfg.init.name),
        "optim": str(cfg.optim.name),
        "regularization": "+".join(reg) or "none",
        "preprocess": str(cfg.data.preprocess),
        "augment": augment if isinstance(augment, str) else "+".join(augment) or "none",
    }


def override_values(overrides: list[str]) -> dict[str, str]:
    """{key: value} of command-line overrides, without Hydra's +/++/~ prefixes."""
    return dict(o.lstrip("+~").partition("=")[::2] for o in overrides)


def hparams_row(cfg: DictConfig, overrides: list[str]) -> dict[str, object]:
    """Flat HPARAMS keys, the same set for every run of a sweep: the choice per group, the seed, the
    knobs every study cares about, and every command-line override (a swept knob such as
    regularization.dropout.p), each under its full key so that none appears twice."""
    row: dict[str, object] = dict(chosen_options(cfg))
    row |= {
        "seed": int(cfg.seed),
        "optim.optimizer.lr": float(cfg.optim.optimizer.lr),
        "data.batch_size": int(cfg.data.batch_size),
        "trainer.max_epochs": int(cfg.trainer.max_epochs),
    }
    for key, value in override_values(overrides).items():
        if is_arm(key) and key not in chosen_options(cfg):
            row[key] = value
    return row
