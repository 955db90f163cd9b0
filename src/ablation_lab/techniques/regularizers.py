"""Regularization registry: conf/regularization/<name>.yaml ↔ one entry here. Composable.

`regularization=[dropout,weight_decay]` puts one key per chosen technique under
`cfg.regularization`; each entry reads its own knobs and edits one `RegularizationPlan`. A technique
that is not chosen leaves the plan at its "off" default: no module, no hook, no cost.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ablation_lab.config.schema import knob
from ablation_lab.errors import ConfigError, check_choice
from ablation_lab.techniques.dropconnect import DropConnectSpec
from ablation_lab.techniques.regularizer_modules import PlainDropout

Penalty = Callable[[nn.Module], torch.Tensor]


@dataclass
class RegularizationPlan:
    """What the chosen regularizers ask of the model, the loss, the batch and the trainer."""

    names: list[str] = field(default_factory=list)
    # model
    dropout: Callable[[], nn.Module] | None = None
    dropout_name: str | None = None  # which regularizer set `dropout` (dropout or alpha_dropout)
    dropout_placement: str = "fc"
    batchnorm: bool = False
    order: str = "bn_act_dropout"
    dropconnect: DropConnectSpec | None = None
    drop_path: float | None = None  # p_L: survival probability of the last residual block
    drop_path_mode: str = "row"  # row: per example; batch: per mini-batch (Huang et al.)
    pool_ratio: float | None = None  # fractional max-pooling output ratio
    test_passes: int = 1
    # loss
    weight_decay: float = 0.0
    decoupled_weight_decay: bool = False
    penalties: list[Penalty] = field(default_factory=list)
    label_smoothing: float = 0.0
    confidence_penalty: float = 0.0
    aux_weight: float = 0.0
    aux_positions: tuple[float, ...] = ()
    # batch
    mixup_alpha: float | None = None
    cutout: dict | None = None
    # trainer
    early_stopping: dict | None = None


def decay_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Weights that decay: matrices and kernels, not biases or norm scales (ndim ≥ 2)."""
    return [p for p in model.parameters() if p.ndim >= 2]


def _knob(name: str, cfg, key: str, default=None):
    """Knob `key` of regularizer `name`, checked against the config schema (config/schema.py)."""
    return knob(f"regularization.{name}.{key}", cfg.get(key, default))


def _set_dropout(plan: RegularizationPlan, name: str, make: Callable[[], nn.Module], cfg) -> None:
    """The unit dropout of the model; dropout and alpha_dropout exclude each other in either order.

    placement fc: after every fully connected hidden block, or before the classifier when the
    model has none (a conv net): where the chapter recommends it. blocks: after conv blocks too.
    head: only before the classifier."""
    if plan.dropout_name is not None:
        raise ConfigError(f"regularization=[{plan.dropout_name},{name}]: choose one of the two")
    plan.dropout, plan.dropout_name = make, name
    plan.dropout_placement = _knob(name, cfg, "placement", "fc")


def _dropout(plan: RegularizationPlan, cfg) -> None:
    """Inverted (scale survivors by 1/(1−p) in training) or plain (scale by 1−p at test)."""
    p = _knob("dropout", cfg, "p")
    make = (lambda: nn.Dropout(p)) if _knob("dropout", cfg, "inverted", True) else (lambda: PlainDropout(p))
    _set_dropout(plan, "dropout", make, cfg)


def _alpha_dropout(plan: RegularizationPlan, cfg) -> None:
    p = _knob("alpha_dropout", cfg, "p")
    _set_dropout(plan, "alpha_dropout", lambda: nn.AlphaDropout(p), cfg)


def _dropconnect(plan: RegularizationPlan, cfg) -> None:
    plan.dropconnect = DropConnectSpec(
        _knob("dropconnect", cfg, "p"),
        _knob("dropconnect", cfg, "per_example", True),
        _knob("dropconnect", cfg, "mask_bias", True),
        _knob("dropconnect", cfg, "inference", "mean"),
        _knob("dropconnect", cfg, "samples", 1000),
        _knob("dropconnect", cfg, "layers", "all"),
    )


def _batchnorm(plan: RegularizationPlan, cfg) -> None:
    plan.batchnorm, plan.order = True, _knob("batchnorm", cfg, "order", "bn_act_dropout")


# λ the literature uses for each form when `lambda` is null: decoupled (torch's AdamW, shrink lr·λ
# a step) 0.1, as GPT-3 and LLaMA; DeiT/ConvNeXt use 0.05, Loshchilov & Hutter's CIFAR setting is
# ≈ 0.25 in this form. Coupled L2 with SGD 5e-4 (ResNet on CIFAR, He et al. 2016).
DEFAULT_WEIGHT_DECAY = {True: 0.1, False: 5e-4}


def _weight_decay(plan: RegularizationPlan, cfg) -> None:
    """Coupled: λ/2·Σw² in the loss (gradient λw). Decoupled: the optimizer shrinks w by lr·λ."""
    plan.decoupled_weight_decay = _knob("weight_decay", cfg, "decoupled", True)
    lam = _knob("weight_decay", cfg, "lambda")
    lam = DEFAULT_WEIGHT_DECAY[plan.decoupled_weight_decay] if lam is None else lam
    plan.weight_decay = lam
    if not plan.decoupled_weight_decay:
        plan.penalties.append(lambda model: 0.5 * lam * sum(p.pow(2).sum() for p in decay_parameters(model)))


def _l1(plan: RegularizationPlan, cfg) -> None:
    """λ·Σ|w| in the loss: gradient λ·sign(w), drives weights to exactly 0."""
    lam = _knob("l1", cfg, "lambda", 1e-5)
    plan.penalties.append(lambda model: lam * sum(p.abs().sum() for p in decay_parameters(model)))


def _label_smoothing(plan: RegularizationPlan, cfg) -> None:
    plan.label_smoothing = _knob("label_smoothing", cfg, "epsilon", 0.1)


def _confidence_penalty(plan: RegularizationPlan, cfg) -> None:
    plan.confidence_penalty = _knob("confidence_penalty", cfg, "beta", 0.1)


def _mixup(plan: RegularizationPlan, cfg) -> None:
    plan.mixup_alpha = _knob("mixup", cfg, "alpha", 0.2)


def _cutout(plan: RegularizationPlan, cfg) -> None:
    """size None: the dataset's size (augmentation.cutout_size), as for data.augment=[cutout]."""
    plan.cutout = {"size": _knob("cutout", cfg, "size"), "count": _knob("cutout", cfg, "count", 1)}


def _stochastic_depth(plan: RegularizationPlan, cfg) -> None:
    plan.drop_path = _knob("stochastic_depth", cfg, "p_last", 0.5)
    plan.drop_path_mode = _knob("stochastic_depth", cfg, "mode", "row")


def _fractional_max_pool(plan: RegularizationPlan, cfg) -> None:
    plan.pool_ratio = _knob("fractional_max_pool", cfg, "ratio", 2**-0.5)
    plan.test_passes = _knob("fractional_max_pool", cfg, "test_passes", 4)


def _aux_classifier(plan: RegularizationPlan, cfg) -> None:
    plan.aux_weight = _knob("aux_classifier", cfg, "weight", 0.3)
    plan.aux_positions = tuple(_knob("aux_classifier", cfg, "positions", [0.5]))


def _early_stopping(plan: RegularizationPlan, cfg) -> None:
    plan.early_stopping = {
        key: _knob("early_stopping", cfg, key, default)
        for key, default in (("monitor", "val/acc"), ("patience", 5), ("mode", "max"), ("min_delta", 0.0))
    }


REGULARIZERS: dict[str, Callable[[RegularizationPlan, object], None]] = {
    "weight_decay": _weight_decay,
    "l1": _l1,
    "dropout": _dropout,
    "alpha_dropout": _alpha_dropout,
    "dropconnect": _dropconnect,
    "batchnorm": _batchnorm,
    "label_smoothing": _label_smoothing,
    "confidence_penalty": _confidence_penalty,
    "mixup": _mixup,
    "cutout": _cutout,
    "stochastic_depth": _stochastic_depth,
    "fractional_max_pool": _fractional_max_pool,
    "aux_classifier": _aux_classifier,
    "early_stopping": _early_stopping,
}


def build_regularization(cfg) -> RegularizationPlan:
    """Turn `cfg.regularization` (one key per chosen technique; empty for none) into a plan."""
    plan = RegularizationPlan()
    for name, knobs in (cfg or {}).items():
        check_choice("regularization", name, REGULARIZERS)
        if knobs is None:
            raise ConfigError(f"regularization.{name} has no settings; pick it with regularization={name}")
        REGULARIZERS[name](plan, knobs)
        plan.names.append(name)
    return plan
