"""Weight-initialization registry: conf/init/<name>.yaml ↔ one entry here.

Each entry fills one weight tensor in place with `torch.nn.init`; `apply_init` walks every Linear
and Conv layer of a model (norm layers keep their own 1/0 init) and sets biases to `cfg.bias`.
"""

from collections.abc import Callable

import torch
from torch import nn

from ablation_lab.config.schema import knob
from ablation_lab.errors import check_choice
from ablation_lab.techniques.activations import Activation

WeightInit = Callable[[torch.Tensor, object, Activation], None]


def _zeros(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.zeros_(w)


def _constant(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.constant_(w, float(cfg.get("value", 1.0)))


def _uniform(w: torch.Tensor, cfg, act: Activation) -> None:
    a = float(cfg.get("a", 0.1))
    nn.init.uniform_(w, -a, a)


def _normal(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.normal_(w, 0.0, float(cfg.get("std", 0.01)))


def _fan_in(w: torch.Tensor, cfg, act: Activation) -> None:
    """U(−1/√n_in, 1/√n_in): Var = 1/(3·n_in)."""
    bound = 1.0 / nn.init._calculate_correct_fan(w, "fan_in") ** 0.5
    nn.init.uniform_(w, -bound, bound)


def _xavier_uniform(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.xavier_uniform_(w, gain=float(cfg.get("gain", 1.0)))


def _xavier_normal(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.xavier_normal_(w, gain=float(cfg.get("gain", 1.0)))


def _kaiming(fill):
    """std = gain/√n (normal) or bound = gain·√(3/n) (uniform): n = fan_in with the activation's
    forward gain (keeps the forward second moment), n = fan_out with its backward gain (keeps the
    gradient's)."""

    def init(w: torch.Tensor, cfg, act: Activation) -> None:
        mode = knob("init.mode", cfg.get("mode", "fan_in"))
        kaiming_fill(w, act, mode, fill)

    return init


def kaiming_fill(
    w: torch.Tensor, act: Activation, mode: str = "fan_in", fill=nn.init.kaiming_normal_
) -> None:
    """torch's Kaiming fill at unit gain, scaled by the activation's gain for `mode` (activations.py):
    forward for fan_in, backward for fan_out (He et al. 2015 derive one condition for each)."""
    fill(w, mode=mode, nonlinearity="linear")
    with torch.no_grad():
        w.mul_(act.gain if mode == "fan_in" else act.backward_gain)


def _lecun_normal(w: torch.Tensor, cfg, act: Activation) -> None:
    """N(0, 1/n_in): Kaiming with the linear gain (what SELU needs)."""
    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="linear")


def _orthogonal(w: torch.Tensor, cfg, act: Activation) -> None:
    nn.init.orthogonal_(w, gain=float(cfg.get("gain", 1.0)))


WEIGHT_INITS: dict[str, WeightInit | None] = {
    "default": None,
    "zeros": _zeros,
    "constant": _constant,
    "uniform": _uniform,
    "normal": _normal,
    "fan_in": _fan_in,
    "xavier_uniform": _xavier_uniform,
    "xavier_normal": _xavier_normal,
    "kaiming_uniform": _kaiming(nn.init.kaiming_uniform_),
    "kaiming_normal": _kaiming(nn.init.kaiming_normal_),
    "lecun_normal": _lecun_normal,
    "orthogonal": _orthogonal,
}
# Whole-model inits: they need to know the architecture or read a file.
MODEL_INITS = {"fixup", "pretrained"}
INIT_NAMES = set(WEIGHT_INITS) | MODEL_INITS

INIT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def apply_init(model: nn.Module, cfg, act: Activation) -> nn.Module:
    """Initialize every affine layer of `model` with the init named `cfg.name`; `default` keeps torch's."""
    check_choice("init", cfg.name, INIT_NAMES)
    if cfg.name == "fixup":
        from ablation_lab.techniques.fixup import fixup_init

        return fixup_init(model, act)
    if cfg.name == "pretrained":
        from ablation_lab.techniques.pretrained import load_pretrained

        return load_pretrained(model, cfg)
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
