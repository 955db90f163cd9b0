"""Regularizer modules that no well-kept library provides: plain (non-inverted) dropout,
DropConnect (Wan et al. 2013, weight-level, not timm's drop-path), and auxiliary classifier heads."""

import torch
from torch import nn
from torch.nn.utils import parametrize


class PlainDropout(nn.Module):
    """Original dropout (Srivastava et al. 2014): training zeroes units with probability p and does
    not rescale; test time multiplies by the keep probability 1 − p. Same expectation as inverted."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x * (1 - self.p)
        return x * (torch.rand_like(x) >= self.p)


def add_dropconnect(layer: nn.Module, p: float) -> nn.Module:
    """DropConnect on `layer.weight` (Linear or Conv), through torch's parametrize: the weight seen
    by the layer is W ⊙ M, M ~ Bernoulli(1 − p) drawn at every forward in training, and the
    expected weight (1 − p)·W at test — plain dropout applied to the weights instead of the units."""
    parametrize.register_parametrization(layer, "weight", PlainDropout(p))
    return layer


class AuxHeads(nn.Module):
    """Extra classifiers on intermediate features (GoogLeNet, Szegedy et al. 2015): average-pool,
    flatten, linear. They live beside the network, so inference never runs them."""

    def __init__(self, feature_shapes: list[torch.Size], num_classes: int) -> None:
        super().__init__()
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(1) if len(s) == 3 else nn.Identity(),
                nn.Flatten(),
                nn.Linear(s[0], num_classes),
            )
            for s in feature_shapes
        )

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        return [head(f) for head, f in zip(self.heads, features, strict=True)]


def feature_taps(net: nn.Module) -> list[nn.Module]:
    """The modules whose outputs are the model's intermediate features: its hidden blocks."""
    taps = getattr(net, "feature_modules", None)
    return list(taps()) if callable(taps) else [m for m in net.modules() if getattr(m, "is_block", False)]
