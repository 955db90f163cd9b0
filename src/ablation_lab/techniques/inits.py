"""Weight-initialization registry: conf/init/<name>.yaml ↔ one entry here.

Each entry fills one weight tensor in place with `torch.nn.init`; `apply_init` walks every Linear
and Conv layer of a model (norm layers keep their own 1/0 init) and sets biases to `cfg.bias`.
"""

from collections.abc import Callable

import torch
from torch import nn

from ablation_lab.errors import check_choice
from ablation_lab.techniques.activations import Activation

WeightInit = Callable[[torch.Tensor, object, Activation], None]


def _zeros(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.zeros_(w)


def _xavier_normal(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.xavier_normal_(w, gain=float(cfg.get("gain", 1.0)))


def _kaiming_normal(w: torch.Tensor, cfg, act: Activation) -> None:
    nonlinearity, param = act.gain
    mode = str(cfg.get("mode", "fan_in"))
    check_choice("init.mode", mode, {"fan_in", "fan_out"})
    nn.init.kaiming_normal_(w, a=param or 0.0, mode=mode, nonlinearity=nonlinearity)


WEIGHT_INITS: dict[str, WeightInit | None] = {
    "default": None,
    "zeros": _zeros,
    "xavier_normal": _xavier_normal,
    "kaiming_normal": _kaiming_normal,
}

INIT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def apply_init(model: nn.Module, cfg, act: Activation) -> nn.Module:
    """Initialize every affine layer of `model` with the init named `cfg.name`; `default` keeps torch's."""
    check_choice("init", cfg.name, WEIGHT_INITS)
    fill = WEIGHT_INITS[cfg.name]
    if fill is None:
        return model
    bias = float(cfg.get("bias", 0.0))
    for layer in model.modules():
        if isinstance(layer, INIT_LAYERS):
            fill(layer.weight, cfg, act)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, bias)
    return model
