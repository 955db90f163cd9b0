"""Preprocessing registry: `data.preprocess=<name>` ↔ one entry here.

Each entry is fitted on the training split only and returns an nn.Module whose statistics are
buffers: they travel in the checkpoint and are applied identically to val, test and inference.
Inputs are raw pixel values as floats (0..255).
"""

from collections.abc import Callable

import torch
from torch import nn

from ablation_lab.errors import check_choice


class Affine(nn.Module):
    """x ↦ (x − shift) / scale with broadcastable buffers (per channel, per pixel or scalar)."""

    def __init__(self, shift: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("shift", shift.float())
        self.register_buffer("scale", scale.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale


def _channels(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) → (C, N·H·W) as float, for per-channel statistics."""
    return x.transpose(0, 1).reshape(x.shape[1], -1).float()


def _none(x: torch.Tensor) -> nn.Module:
    return nn.Identity()


def _scale01(x: torch.Tensor) -> nn.Module:
    return Affine(torch.zeros(()), torch.full((), 255.0))


def _standardize(x: torch.Tensor) -> nn.Module:
    """Per-channel (x − μ_c)/σ_c with μ, σ from the training split (ResNet-style)."""
    c = _channels(x)
    mean, std = c.mean(1), c.std(1).clamp_min(1e-6)
    return Affine(mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1))


PREPROCESSORS: dict[str, Callable[[torch.Tensor], nn.Module]] = {
    "none": _none,
    "scale01": _scale01,
    "standardize": _standardize,
}


def fit_preprocess(name: str, train_x: torch.Tensor) -> nn.Module:
    """Fit preprocessing `name` on the raw training images `train_x` (uint8, N×C×H×W)."""
    check_choice("data.preprocess", name, PREPROCESSORS)
    return PREPROCESSORS[name](train_x)
