"""Activation registry: conf/activation/<name>.yaml ↔ one entry here.

Models never name an activation; they receive an `Activation` and call it with the width of the
layer it follows. `expansion` is how many affine outputs feed one unit (maxout's k, else 1), and
`gain` is what `torch.nn.init.calculate_gain` needs so inits such as Kaiming can match it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ablation_lab.errors import check_choice


@dataclass(frozen=True)
class Activation:
    """A named activation: `make(width)` builds the module that follows a layer of `width` units."""

    name: str
    make: Callable[[int], nn.Module]
    gain: tuple[str, float | None] = ("relu", None)
    expansion: int = 1

    def __call__(self, width: int) -> nn.Module:
        return self.make(width)


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


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "identity": _identity,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "gelu": _gelu,
}


def build_activation(cfg) -> Activation:
    """Look up `cfg.name` in the registry and build it with the option's knobs."""
    check_choice("activation", cfg.name, ACTIVATIONS)
    return ACTIVATIONS[cfg.name](cfg)
