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


class Whiten(nn.Module):
    """x ↦ W(x − μ) on the flattened image, reshaped back: PCA (W = Λ^−½Uᵀ) or ZCA (W = UΛ^−½Uᵀ)."""

    def __init__(self, mean: torch.Tensor, matrix: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.register_buffer("matrix", matrix.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1) / 255.0 - self.mean
        return (flat @ self.matrix.T).view_as(x)


def _none(x: torch.Tensor, eps: float) -> nn.Module:
    return nn.Identity()


def _scale01(x: torch.Tensor, eps: float) -> nn.Module:
    return Affine(torch.zeros(()), torch.full((), 255.0))


def _max_norm(x: torch.Tensor, eps: float) -> nn.Module:
    """x / max over the training split."""
    return Affine(torch.zeros(()), x.max().float().clamp_min(1.0))


def _min_max(x: torch.Tensor, eps: float) -> nn.Module:
    """(x − min) / (max − min) over the training split: values in [0, 1]."""
    lo, hi = x.min().float(), x.max().float()
    return Affine(lo, (hi - lo).clamp_min(1.0))


def _mean_image(x: torch.Tensor, eps: float) -> nn.Module:
    """Subtract the mean image, pixel by pixel (AlexNet)."""
    return Affine(x.float().mean(0, keepdim=True), torch.ones(()))


def _channel_mean(x: torch.Tensor, eps: float) -> nn.Module:
    """Subtract the per-channel mean (VGG)."""
    return Affine(_channels(x).mean(1).view(1, -1, 1, 1), torch.ones(()))


def _standardize(x: torch.Tensor, eps: float) -> nn.Module:
    """Per-channel (x − μ_c)/σ_c with μ, σ from the training split (ResNet-style)."""
    c = _channels(x)
    mean, std = c.mean(1), c.std(1).clamp_min(1e-6)
    return Affine(mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1))


def _eigen(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean, eigenvalues and eigenvectors of the pixel covariance (pixels scaled to 0..1)."""
    flat = x.flatten(1).double() / 255.0
    mean = flat.mean(0)
    centred = flat - mean
    cov = centred.T @ centred / (len(flat) - 1)
    vals, vecs = torch.linalg.eigh(cov)
    return mean, vals.clamp_min(0) + eps, vecs


def _pca_whiten(x: torch.Tensor, eps: float) -> nn.Module:
    """Rotate into the PCA basis and scale each component to unit variance: covariance ≈ I."""
    mean, vals, vecs = _eigen(x, eps)
    return Whiten(mean, torch.diag(vals.rsqrt()) @ vecs.T)


def _zca_whiten(x: torch.Tensor, eps: float) -> nn.Module:
    """PCA whitening rotated back (Bell & Sejnowski 1997): covariance ≈ I, images still look like images."""
    mean, vals, vecs = _eigen(x, eps)
    return Whiten(mean, vecs @ torch.diag(vals.rsqrt()) @ vecs.T)


PREPROCESSORS: dict[str, Callable[[torch.Tensor, float], nn.Module]] = {
    "none": _none,
    "scale01": _scale01,
    "max_norm": _max_norm,
    "min_max": _min_max,
    "mean_image": _mean_image,
    "channel_mean": _channel_mean,
    "standardize": _standardize,
    "pca_whiten": _pca_whiten,
    "zca_whiten": _zca_whiten,
}


def fit_preprocess(name: str, train_x: torch.Tensor, eps: float = 1e-3) -> nn.Module:
    """Fit preprocessing `name` on the raw training images `train_x` (uint8, N×C×H×W).
    `eps` regularizes the whitening eigenvalues (pixels scaled to 0..1)."""
    check_choice("data.preprocess", name, PREPROCESSORS)
    return PREPROCESSORS[name](train_x, eps)
