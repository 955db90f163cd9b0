"""Activation registry: conf/activation/<name>.yaml ↔ one entry here.

Models never name an activation; they receive an `Activation` and call it with the width of the
layer it follows. `expansion` is how many affine outputs feed one unit (maxout's k, else 1).
`gain` is the weight scale that keeps the forward second moment (He et al. 2015's derivation, for
any f; see forward_gain): Kaiming (mode fan_in) and Fixup use it, so an activation sweep does not
measure an init mismatch. It fixes the scale of one layer, not of a deep stack: where the variance
map's fixed point is unstable the drift compounds (Swish: ×3 over 30 layers of width 256).
`backward_gain` keeps the backward second moment (see backward_gain): Kaiming with mode fan_out
uses it. Bounded activations (tanh, sigmoid) keep torch's gains (5/3, 1) both ways: tanh's 5/3
does not preserve the variance (a deep tanh stack at 5/3 settles at E[f²] ≈ 0.42), no gain does.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ablation_lab.config.schema import knob
from ablation_lab.errors import check_choice

# Probabilists' Gauss–Hermite rule: Σ wᵢ g(xᵢ) = ∫ g(x) e^(−x²/2) dx, exact for polynomials of degree < 400.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(200)


def forward_gain(f: Callable[[torch.Tensor], torch.Tensor] | None = None, pieces: int = 1) -> float:
    """The gain g with E[f(g·z)²] = 1, z ~ N(0, 1) (or z the max of `pieces` draws: maxout).

    A layer with Var(w) = g²/n_in whose input has unit second moment (standardized data, or the
    previous layer's output) gets pre-activations of variance g² and outputs of unit second moment
    again: every layer sees the same scale. For positively homogeneous f this is He et al.'s gain
    (√2 for ReLU), for SELU it is 1 (LeCun). `f` defaults to the identity.
    """
    x = torch.from_numpy(_NODES)
    weights = torch.from_numpy(_WEIGHTS) / math.sqrt(2 * math.pi)
    if pieces > 1:  # density of the max of k standard normals: k·φ(x)·Φ(x)^(k−1)
        weights = weights * pieces * (0.5 * (1 + torch.erf(x / math.sqrt(2)))) ** (pieces - 1)

    def second_moment(g: float) -> float:
        with torch.no_grad():
            fx = g * x if f is None else f(g * x).double()
            return (weights * fx**2).sum().item()

    if second_moment(1e2) < 1:
        raise ValueError("a bounded activation never reaches a unit second moment: use torch's gain")
    return _solve(second_moment)


def backward_gain(f: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """The gain g with g²·E[f'(g·z)²] = 1, z ~ N(0, 1): He et al.'s backward condition. With
    Var(w) = g²/n_out and pre-activations of variance g², the gradient reaching a layer's input
    has the second moment of the gradient at its output. For positively homogeneous f it equals
    the forward gain (√2 for ReLU); for GELU 1.428, Swish 1.515, Mish 1.412, ELU 1.249.
    """
    # f' may have a kink at 0 (ELU's), where Gauss–Hermite converges slowly: a fine trapezoid grid
    x = torch.linspace(-12.0, 12.0, 48_001, dtype=torch.float64)
    weights = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi) * (x[1] - x[0])

    def scaled_slope(g: float) -> float:
        z = (g * x).requires_grad_(True)
        (slope,) = torch.autograd.grad(f(z).double().sum(), z)
        return g * g * (weights * slope.detach() ** 2).sum().item()

    return _solve(scaled_slope)


def _solve(moment: Callable[[float], float]) -> float:
    """g in [0.01, 100] with moment(g) = 1, by bisection (moment grows with g here)."""
    low, high = 1e-2, 1e2
    for _ in range(80):
        mid = (low * high) ** 0.5
        low, high = (mid, high) if moment(mid) < 1 else (low, mid)
    return (low * high) ** 0.5


@dataclass(frozen=True)
class Activation:
    """A named activation: `make(width)` builds the module that follows a layer of `width` units."""

    name: str
    make: Callable[[int], nn.Module]
    gain: float
    expansion: int = 1
    backward: float | None = None  # the backward gain where it differs from `gain`

    def __call__(self, width: int) -> nn.Module:
        module = self.make(width)
        module.is_activation = True  # diagnostics find the per-layer activations by this mark
        return module

    @property
    def backward_gain(self) -> float:
        """The gain that keeps the gradient's second moment (Kaiming's fan_out mode)."""
        return self.gain if self.backward is None else self.backward


def _computed(name: str, make: Callable[[int], nn.Module]) -> Activation:
    """An activation torch has no gains for: E[f(g·z)²] = 1 and g²·E[f'(g·z)²] = 1 give them."""
    f = make(1).double()
    return Activation(name, make, gain=forward_gain(f), backward=backward_gain(f))


def _identity(cfg) -> Activation:
    return Activation("identity", lambda w: nn.Identity(), gain=1.0)


def _sigmoid(cfg) -> Activation:
    return Activation("sigmoid", lambda w: nn.Sigmoid(), gain=nn.init.calculate_gain("sigmoid"))


def _tanh(cfg) -> Activation:
    return Activation("tanh", lambda w: nn.Tanh(), gain=nn.init.calculate_gain("tanh"))


def _relu(cfg) -> Activation:
    return Activation("relu", lambda w: nn.ReLU(), gain=nn.init.calculate_gain("relu"))


def _gelu(cfg) -> Activation:
    approximate = knob("activation.approximate", cfg.get("approximate", "none"))
    return _computed("gelu", lambda w: nn.GELU(approximate=approximate))


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
    slope = knob("activation.negative_slope", cfg.get("negative_slope", 0.01))
    gain = nn.init.calculate_gain("leaky_relu", slope)
    return Activation("leaky_relu", lambda w: nn.LeakyReLU(slope), gain=gain)


def _prelu(cfg) -> Activation:
    init = knob("activation.init", cfg.get("init", 0.25))
    per_channel = knob("activation.per_channel", cfg.get("per_channel", False))
    return Activation(
        "prelu",
        lambda w: nn.PReLU(w if per_channel else 1, init=init),
        gain=nn.init.calculate_gain("leaky_relu", init),  # at its starting slope
    )


def _elu(cfg) -> Activation:
    alpha = knob("activation.alpha", cfg.get("alpha", 1.0))
    return _computed("elu", lambda w: nn.ELU(alpha))


def _selu(cfg) -> Activation:
    # torch's calculate_gain("selu") = 3/4 trades self-normalization for gradient flow; the forward
    # gain is 1 (E[selu(z)²] = 1 by construction): kaiming_* with SELU is LeCun's N(0, 1/n_in).
    return _computed("selu", lambda w: nn.SELU())


def _swish(cfg) -> Activation:
    beta = knob("activation.beta", cfg.get("beta", 1.0))
    learnable = knob("activation.learnable", cfg.get("learnable", False))
    if beta == 1.0 and not learnable:
        return _computed("swish", lambda w: nn.SiLU())
    return _computed("swish", lambda w: Swish(beta, learnable))  # gain at the starting β


def _mish(cfg) -> Activation:
    return _computed("mish", lambda w: nn.Mish())


def _maxout(cfg) -> Activation:
    k = knob("activation.k", cfg.get("k", 2))
    # backward: each of the k pieces gets the unit's gradient with probability 1/k, so g² / k = 1
    return Activation("maxout", lambda w: Maxout(k), forward_gain(pieces=k), k, backward=k**0.5)


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
