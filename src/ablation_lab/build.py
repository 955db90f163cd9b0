"""From a composed config to the objects of a run, with every choice checked on the way.

`build_model` needs only the config (data declares its input shape and classes), so a whole
sweep can be checked before its first run starts.
"""

import os
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from ablation_lab.data.checks import check_data
from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks
from ablation_lab.techniques.activations import build_activation
from ablation_lab.techniques.augmentation import build_augment, build_tta
from ablation_lab.techniques.aux_heads import build_aux_heads, tap_modules
from ablation_lab.techniques.dropconnect import keep_last_only
from ablation_lab.techniques.inits import apply_init
from ablation_lab.techniques.regularizer_modules import PlainDropout
from ablation_lab.techniques.regularizers import RegularizationPlan, build_regularization
from ablation_lab.utils.devices import check_optimizer_precision


def build_model(cfg: DictConfig, plan: RegularizationPlan | None = None) -> nn.Module:
    """The network of `cfg.model` with `cfg.activation`, regularizer blocks and `cfg.init`."""
    act = build_activation(cfg.activation)
    plan = plan or build_regularization(cfg.get("regularization"))
    net = _network(cfg, plan, act)
    _check_fits(net, plan, cfg.model.name)
    if plan.dropconnect is not None and plan.dropconnect.layers == "last":
        keep_last_only(net)
    net = apply_init(net, cfg.init, act)
    if plan.dropout is not None and not _has_dropout(net):  # head, or fc on a net without fc blocks
        _before_head(net, plan.dropout())
    return net


def _network(cfg: DictConfig, plan: RegularizationPlan, act) -> nn.Module:
    """The bare network (no init): model class, blocks with the plan's regularizers."""
    blocks = Blocks(
        act,
        plan.batchnorm,
        plan.order,
        plan.dropout if plan.dropout_placement != "head" else None,
        plan.dropconnect,
        plan.pool_ratio,
        plan.drop_path,
        conv_dropout=plan.dropout_placement == "blocks",
        drop_path_mode=plan.drop_path_mode,
    )
    model_cfg = OmegaConf.masked_copy(cfg.model, [k for k in cfg.model if k != "name"])
    make_net = instantiate(model_cfg, _partial_=True)  # blocks is a Python object, not config
    return make_net(in_shape=list(cfg.data.in_shape), num_classes=int(cfg.data.num_classes), blocks=blocks)


# Bytes per parameter while training: weights, gradients and two optimizer moments (Adam), float32.
TRAINING_BYTES_PER_PARAM = 16


def _memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_shape(cfg: DictConfig) -> None:
    """What the network's shape alone tells, without allocating it (built on the meta device): it
    fits in this machine's memory, and batch norm gets more than one example per batch."""
    plan = build_regularization(cfg.get("regularization"))
    act = build_activation(cfg.activation)  # its gain is computed on real tensors, outside the meta device
    with torch.device("meta"):
        net = _network(cfg, plan, act)
    params = sum(p.numel() for p in net.parameters())
    need, have = params * TRAINING_BYTES_PER_PARAM, _memory()
    if need > have:
        raise ConfigError(
            f"the model has {params:,} parameters (model.width={cfg.model.get('width')}): training needs "
            f"~{need / 2**30:,.0f} GiB, this machine has {have / 2**30:,.0f} GiB; choose a smaller model"
        )
    batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    if batch_norm and int(cfg.data.batch_size) == 1:
        raise ConfigError(
            "data.batch_size=1 with batch norm: a batch of one example has no batch statistics; "
            "use data.batch_size ≥ 2 or a model without batch norm"
        )


def _check_devices(trainer: DictConfig) -> None:
    """A number of devices the machine has (CPU processes: its cores; GPUs: those torch sees)."""
    accelerator, devices = str(trainer.get("accelerator", "auto")), trainer.get("devices", "auto")
    if not isinstance(devices, int) or devices < 1:
        return
    gpus = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    have = torch.cuda.device_count() if gpus else os.cpu_count() or 1
    if devices > have:
        kind = "GPUs" if gpus else "CPU cores"
        raise ConfigError(
            f"trainer.devices={devices} but this machine has {have} {kind}; use trainer.devices ≤ {have}"
        )


def _has_dropout(net: nn.Module) -> bool:
    return any(isinstance(m, (nn.Dropout, nn.AlphaDropout, PlainDropout)) for m in net.modules())


def _check_fits(net: nn.Module, plan: RegularizationPlan, model: str) -> None:
    if plan.drop_path is not None and not getattr(net, "residual", False):
        raise ConfigError(
            f"regularization=stochastic_depth needs residual blocks (model=resnet), not model={model}"
        )
    if plan.pool_ratio is not None and not getattr(net, "pools", False):
        raise ConfigError(
            f"regularization=fractional_max_pool needs pooling layers (model=cnn), not model={model}"
        )
    if plan.aux_positions:
        tap_modules(net, plan.aux_positions)  # refuses a net without an intermediate block


def _before_head(net: nn.Module, module: nn.Module) -> None:
    """Insert `module` right before the classifier (the last Linear layer)."""
    name = [n for n, m in net.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, child = name.rpartition(".")
    parent = net.get_submodule(parent_name) if parent_name else net
    setattr(parent, child, nn.Sequential(module, getattr(parent, child)))


def check_config(cfg: DictConfig) -> None:
    """Raise ConfigError for what only torch can tell (the second stage of the CLIs' preflight,
    after the schema): the model builds with its regularizers and init, the data can be found,
    the accelerator exists. Building a run checks the same things again on its way."""
    build_augment(cfg.data.augment, cfg.data.get("augment_args"), cfg.data.in_shape, dataset=cfg.data.name)
    build_tta(cfg.data.get("tta", "none"), int(cfg.data.in_shape[-1]))
    check_shape(cfg)
    build_model(cfg)
    accelerator = cfg.trainer.get("accelerator", "auto")
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={accelerator} but torch sees no CUDA GPU here; use trainer=cpu"
        )
    _check_devices(cfg.trainer)
    check_optimizer_precision(cfg)
    check_data(cfg.data)  # found, intact, real sizes fit the splits; last: an image folder is decoded once


# Keys of the data group that only the model side reads (batch ops).
MODEL_SIDE_DATA_KEYS = ("augment", "augment_args", "tta")


def build_datamodule(cfg: DictConfig):
    """The datamodule of `cfg.data`, loaded (on CPU) and checked against the declared shape."""
    data = OmegaConf.to_container(cfg.data, resolve=True)
    dm = instantiate({k: v for k, v in data.items() if k not in MODEL_SIDE_DATA_KEYS})
    dm.set_seed(int(cfg.get("seed", 0)))
    dm.prepare_data()
    dm.setup("fit")
    shape, declared = tuple(dm.train.x.shape[1:]), tuple(cfg.data.in_shape)
    if shape != declared:
        raise ConfigError(f"data.in_shape={list(declared)} but {cfg.data.name} images are {list(shape)}")
    return dm


def build_module(cfg: DictConfig, dm):
    """The ClassifierModule of a run: model, train-split preprocessing, augmentation, optimizer."""
    from ablation_lab.module import ClassifierModule  # lightning is heavy: only when a run starts

    plan = build_regularization(cfg.get("regularization"))
    net = build_model(cfg, plan)
    return ClassifierModule(
        net=net,
        preprocess=dm.fit_preprocess(),
        augment=build_augment(
            cfg.data.augment,
            cfg.data.get("augment_args"),
            cfg.data.in_shape,
            plan.cutout,
            dataset=cfg.data.name,
        ),
        optim=cfg.optim,
        plan=plan,
        num_classes=int(cfg.data.num_classes),
        aux_heads=build_aux_heads(net, plan, cfg.data.in_shape, int(cfg.data.num_classes)),
        tta=build_tta(cfg.data.get("tta", "none"), int(cfg.data.in_shape[-1])),
        config=cfg,
        compile=bool(cfg.get("compile", False)),
    )


def build_callbacks(cfg: DictConfig, plan: RegularizationPlan, sweep: bool, job: int | None = None) -> list:
    """The Trainer callbacks of a run: the `callbacks` group (a sweep's job drops the progress bar,
    as does trainer.enable_progress_bar=false; trainer.enable_model_summary=false drops the summary),
    the checkpoint policy's, early stopping when a regularizer asks for it, and the progress line
    (a sweep's job `job`: its one line; a single run: only its resume note)."""
    from lightning.pytorch.callbacks import EarlyStopping, ModelSummary, ProgressBar

    from ablation_lab.utils.checkpoints import checkpoint_callbacks
    from ablation_lab.utils.progress import ProgressLine

    switches = cfg.get("trainer") or {}
    dropped = (ProgressBar,) if sweep or switches.get("enable_progress_bar") is False else ()
    dropped += (ModelSummary,) if switches.get("enable_model_summary") is False else ()
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    callbacks = [c for c in callbacks if not isinstance(c, dropped)]
    out = Path(cfg.paths.output_dir)
    callbacks += checkpoint_callbacks(cfg.get("checkpoints", "auto"), out / "checkpoints", sweep)
    callbacks += [EarlyStopping(**plan.early_stopping)] if plan.early_stopping else []
    callbacks.append(ProgressLine(job=job) if sweep else ProgressLine(every_s=None))
    return callbacks


def without_lightning_defaults(cfg: DictConfig, callbacks: list) -> dict:
    """Trainer switches that stop Lightning from adding its own callback of a kind the run has none
    of: with callbacks.progress_bar=null, callbacks=none or checkpoints=none it would add a progress
    bar redrawn every step, a model summary, or a ModelCheckpoint of its own naming. A switch given
    in cfg.trainer (+trainer.enable_progress_bar=true: Lightning's default bar) is left as given."""
    from lightning.pytorch.callbacks import ModelCheckpoint, ModelSummary, ProgressBar

    kinds = {"enable_checkpointing": ModelCheckpoint, "enable_progress_bar": ProgressBar}
    kinds["enable_model_summary"] = ModelSummary
    switches = cfg.get("trainer") or {}
    return {
        switch: False
        for switch, kind in kinds.items()
        if switches.get(switch) is None and not any(isinstance(c, kind) for c in callbacks)
    }
