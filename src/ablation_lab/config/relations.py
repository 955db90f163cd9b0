"""Checks between knobs that each look fine alone: splits that leave a part empty, patches larger
than the image, a pretrained init without a checkpoint, an early-stopping mode that contradicts its
metric. Pure config arithmetic: no torch, no data loading."""

from omegaconf import DictConfig

from ablation_lab.data.splits import EMBEDDED_SIZES, check_split_sizes
from ablation_lab.errors import ConfigError


def check_relations(cfg: DictConfig) -> None:
    """Raise ConfigError for the first pair of knobs that cannot work together."""
    if "data" in cfg:
        _check_splits(cfg.data)
        _check_patches(cfg)
        _check_source(cfg.data)
    if "init" in cfg and cfg.init.get("name") == "pretrained" and not cfg.init.get("path"):
        raise ConfigError("init=pretrained needs init.path=<run>/checkpoints/last.ckpt")
    _check_checkpointing(cfg)
    regularization = cfg.get("regularization") or {}
    stopping = regularization.get("early_stopping")
    if stopping:
        wanted, better = (
            ("min", "a loss improves down")
            if stopping.monitor.endswith("loss")
            else ("max", "an accuracy improves up")
        )
        if stopping.mode != wanted:
            raise ConfigError(
                f"regularization.early_stopping.mode={stopping.mode} with monitor={stopping.monitor}: "
                f"{better}; set regularization.early_stopping.mode={wanted}"
            )
    decay = regularization.get("weight_decay")
    if decay and decay.get("decoupled") and not cfg.optim.get("decoupled_weight_decay", False):
        raise ConfigError(
            f"regularization.weight_decay.decoupled=true needs a decoupled optimizer (optim=adamw), "
            f"not optim={cfg.optim.name}; set regularization.weight_decay.decoupled=false for coupled L2"
        )


def _check_splits(data: DictConfig) -> None:
    """The embedded dataset's splits, by its known size; a dataset read from files is measured by
    the torch-side check (data/inspect.py), since a folder may hold fewer images than the official set."""
    if data.name in EMBEDDED_SIZES:
        n, n_test = EMBEDDED_SIZES[data.name]
        check_split_sizes(data, n, n_test, data.name)


def _check_source(data: DictConfig) -> None:
    """A user's data names where it lies: image_folder a folder, npz a file."""
    if data.name == "image_folder" and not data.get("root"):
        raise ConfigError(
            "data=image_folder needs data.root=<folder with one sub-folder of PNG/JPEG per class>"
        )
    if data.name == "npz" and not data.get("path"):
        raise ConfigError("data=npz needs data.path=<file.npz> holding arrays images (uint8) and labels")


def _check_patches(cfg: DictConfig) -> None:
    side = min(cfg.data.in_shape[1:])
    regularization = cfg.get("regularization") or {}
    sizes = {}
    if regularization.get("cutout") and regularization.cutout.get("size") is not None:
        sizes["regularization.cutout.size"] = regularization.cutout.size
    augment = cfg.data.augment
    names = [augment] if isinstance(augment, str) else list(augment or [])
    args = cfg.data.get("augment_args") or {}
    if "cutout" in names and (args.get("cutout") or {}).get("size") is not None:
        sizes["data.augment_args.cutout.size"] = args.cutout.size
    pad = (args.get("crop") or {}).get("pad")
    if pad is not None and {"crop", "flip_crop"} & set(names) and pad >= side:
        raise ConfigError(f"data.augment_args.crop.pad={pad} must be smaller than the {side}×{side} images")
    for key, size in sizes.items():
        if size > side:
            raise ConfigError(f"{key}={size} is larger than the {side}×{side} images of {cfg.data.name}")


def _check_checkpointing(cfg: DictConfig) -> None:
    """Lightning's trainer.enable_checkpointing against the lab's `checkpoints` policy, which writes
    a run's checkpoints: the two must agree (Lightning would fail inside the run, or add a
    checkpoint of its own naming beside the policy's)."""
    enabled = (cfg.get("trainer") or {}).get("enable_checkpointing")
    policy = cfg.get("checkpoints", "auto")
    if enabled is False and policy != "none":
        raise ConfigError(
            f"trainer.enable_checkpointing=false with checkpoints={policy}: a run's checkpoints follow "
            "`checkpoints` (auto, both, best, last, none); set checkpoints=none"
        )
    if enabled is True and policy == "none":
        raise ConfigError(
            "trainer.enable_checkpointing=true with checkpoints=none: a run's checkpoints follow "
            "`checkpoints` (auto, both, best, last, none); set checkpoints=last (or auto, both, best)"
        )
