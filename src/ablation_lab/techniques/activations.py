"""Activation registry: conf/activation/<name>.yaml ↔ one entry here.

Models never name an activation; they receive an `Activation` and call it with the width of the
layer it follows. `expansion` is how many affine outputs feed one unit (maxout's k, else 1), and
`gain` is what `torch.nn.init.calculate_gain` needs so inits such as Kaiming can match it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ablation_lab.errors import check_choice, check_range


@dataclass(frozen=True)
class Activation:
    """A named activation: `make(width)` builds the module that follows a layer of `width` units."""

    name: str
    make: Callable[[int], nn.Module]
    gain: tuple[str, float | None] = ("relu", None)
    expansion: int = 1

    def __call__(self, width: int) -> nn.Module:
        module = self.make(width)
        module.is_activation = True  # diagnostics find the per-layer activations by this mark
        return module


def _identity(cfg) -> Activation:
    return Activation("identity", lambda w: nn.Identity(), gain=("linear", None))


def _sigmoid(cfg) -> Activation:
    return Activation("sigmoid", lambda w: nn.Sigmoid(), gain=("sigmoid", None))


def _tanh(cfg) -> Activation:
    return Activation("tanh", lambda w: nn.Tanh(), gain=("tanh", None))


def _relu(cfg) -> Activation:
    return Activation("relu", lambda w: nn.ReLU(), gain=("relu", None))


def _gelu(cfg) -> Activation:
    approximate = str(cfg.get("approximate", "none"))
    check_choice("activation.approximate", approximate, {"none", "tanh"})
    return Activation("gelu", lambda w: nn.GELU(approximate=approximate), gain=("relu", None))


class Swish(nn.Module):
    """x·σ(βx) with β a parameter when learnable (Ramachandran et al. 2017); β=1 fixed is SiLU."""

    def __init__(self, beta: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        beta_t = torch.tensor(float(beta))
        if learnable:
            self.beta = nn.Parameter(beta_t)
        else:
            self.register_buffer("beta", beta_t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.beta * x)


class Maxout(nn.Module):
    """max over k pieces (Goodfellow et al. 2013): the layer before emits k·C features, grouped as
    k consecutive features per unit; output has C features."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, ck = x.shape[:2]
        return x.view(n, ck // self.k, self.k, *x.shape[2:]).amax(2)


def _leaky_relu(cfg) -> Activation:
    slope = float(cfg.get("negative_slope", 0.01))
    check_range("activation.negative_slope", slope, 0.0, 1.0)
    return Activation("leaky_relu", lambda w: nn.LeakyReLU(slope), gain=("leaky_relu", slope))


def _prelu(cfg) -> Activation:
    init = float(cfg.get("init", 0.25))
    per_channel = bool(cfg.get("per_channel", False))
    return Activation(
        "prelu",
        lambda w: nn.PReLU(w if per_channel else 1, init=init),
        gain=("leaky_relu", init),
    )


def _elu(cfg) -> Activation:
    alpha = float(cfg.get("alpha", 1.0))
    return Activation("elu", lambda w: nn.ELU(alpha), gain=("relu", None))


def _selu(cfg) -> Activation:
    return Activation("selu", lambda w: nn.SELU(), gain=("selu", None))


def _swish(cfg) -> Activation:
    beta, learnable = float(cfg.get("beta", 1.0)), bool(cfg.get("learnable", False))
    if beta == 1.0 and not learnable:
        return Activation("swish", lambda w: nn.SiLU(), gain=("relu", None))
    return Activation("swish", lambda w: Swish(beta, learnable), gain=("relu", None))


def _mish(cfg) -> Activation:
    return Activation("mish", lambda w: nn.Mish(), gain=("relu", None))


def _maxout(cfg) -> Activation:
    k = int(cfg.get("k", 2))
    check_range("activation.k", k, 2, 64)
    return Activation("maxout", lambda w: Maxout(k), gain=("linear", None), expansion=k)


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "identity": _identity,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "prelu": _prelu,
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
    "swish": _swish,
    "mish": _mish,
    "maxout": _maxout,
}


def build_activation(cfg) -> Activation:
    """Look up `cfg.name` in the registry and build it with the option's knobs."""
    check_choice("activation", cfg.name, ACTIVATIONS)
    return ACTIVATIONS[cfg.name](cfg)
