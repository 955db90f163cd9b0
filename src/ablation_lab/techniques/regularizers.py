"""Regularization registry: conf/regularization/<name>.yaml ↔ one entry here. Composable.

`regularization=[dropout,weight_decay]` puts one key per chosen technique under
`cfg.regularization`; each entry reads its own knobs and edits one `RegularizationPlan`. A technique
that is not chosen leaves the plan at its "off" default: no module, no hook, no cost.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ablation_lab.errors import ConfigError, check_choice, check_range

Penalty = Callable[[nn.Module], torch.Tensor]


@dataclass
class RegularizationPlan:
    """What the chosen regularizers ask of the model, the loss and the optimizer."""

    names: list[str] = field(default_factory=list)
    dropout: Callable[[], nn.Module] | None = None
    batchnorm: bool = False
    order: str = "bn_act_dropout"
    weight_decay: float = 0.0
    decoupled_weight_decay: bool = False
    penalties: list[Penalty] = field(default_factory=list)


def decay_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Weights that decay: matrices and kernels, not biases or norm scales (ndim ≥ 2)."""
    return [p for p in model.parameters() if p.ndim >= 2]


def _dropout(plan: RegularizationPlan, cfg) -> None:
    p = float(cfg.p)
    check_range("regularization.dropout.p", p, 0.0, 1.0, high_open=True)
    plan.dropout = lambda: nn.Dropout(p)


def _batchnorm(plan: RegularizationPlan, cfg) -> None:
    order = str(cfg.get("order", "bn_act_dropout"))
    check_choice("regularization.batchnorm.order", order, {"bn_act_dropout", "dropout_bn_act"})
    plan.batchnorm, plan.order = True, order


def _weight_decay(plan: RegularizationPlan, cfg) -> None:
    """Coupled: λ/2·Σw² in the loss (gradient λw). Decoupled: the optimizer shrinks w by lr·λ."""
    lam = float(cfg.get("lambda", 5e-4))
    check_range("regularization.weight_decay.lambda", lam, 0.0, 1.0)
    plan.weight_decay = lam
    plan.decoupled_weight_decay = bool(cfg.get("decoupled", True))
    if not plan.decoupled_weight_decay:
        plan.penalties.append(lambda model: 0.5 * lam * sum(p.pow(2).sum() for p in decay_parameters(model)))


REGULARIZERS: dict[str, Callable[[RegularizationPlan, object], None]] = {
    "dropout": _dropout,
    "batchnorm": _batchnorm,
    "weight_decay": _weight_decay,
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
