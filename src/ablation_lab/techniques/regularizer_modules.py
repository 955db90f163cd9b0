"""Regularizer modules that no well-kept library provides: plain (non-inverted) dropout and
auxiliary classifier heads (DropConnect: dropconnect.py)."""

import torch
from torch import nn


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
