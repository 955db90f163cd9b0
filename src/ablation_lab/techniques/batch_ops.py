"""Augmentation ops on a whole float batch (N, C, H, W, values 0..255) on its device, with one
random draw per image. torchvision's v2 transforms draw one set of parameters per call, so on a
batch every image would get the same crop, angle or patch; per-image calls in Python are slow."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def _uniform(n: int, low: float, high: float, device) -> torch.Tensor:
    return torch.empty(n, device=device).uniform_(low, high)


class Flip(nn.Module):
    """Mirror each image with probability p along `dim` (-1: left–right, -2: up–down)."""

    def __init__(self, dim: int = -1, p: float = 0.5) -> None:
        super().__init__()
        self.dim, self.p = dim, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flip = torch.rand(x.shape[0], device=x.device) < self.p
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(self.dim), x)


class RandomCrop(nn.Module):
    """Zero-pad by `pad` pixels on each side, then crop the original size at a random offset."""

    def __init__(self, pad: int) -> None:
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        p = self.pad
        padded = F.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (n,), device=x.device)
        dx = torch.randint(0, 2 * p + 1, (n,), device=x.device)
        rows = (dy.view(n, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1)
        cols = (dx.view(n, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w)
        batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
        return padded[batch, torch.arange(c, device=x.device).view(1, c, 1, 1), rows, cols]


def _warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample each image through its own 2×3 affine map (normalized coordinates, zero fill)."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class RandomResizedCrop(nn.Module):
    """Crop an area fraction in `scale` with aspect ratio in `ratio` (log-uniform) at a random
    place, resized back to the full image (Szegedy et al. 2015, the Inception crop)."""

    def __init__(self, scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3)) -> None:
        super().__init__()
        self.scale, self.ratio = tuple(scale), tuple(ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, dev = x.shape[0], x.device
        area = _uniform(n, *self.scale, dev)
        log_r = _uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), dev)
        sw = (area * log_r.exp()).sqrt().clamp(max=1.0)
        sh = (area / log_r.exp()).sqrt().clamp(max=1.0)
        tx, ty = (1 - sw) * _uniform(n, -1, 1, dev), (1 - sh) * _uniform(n, -1, 1, dev)
        theta = torch.zeros(n, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = sw, sh, tx, ty
        return _warp(x, theta)


class RandomAffine(nn.Module):
    """Rotation (±degrees), translation (± fraction of the size), shear (±degrees), zoom (scale range)."""

    def __init__(
        self, degrees: float = 15.0, translate: float = 0.1, shear: float = 10.0, scale=(0.9, 1.1)
    ) -> None:
        super().__init__()
        self.degrees, self.translate, self.shear, self.scale = degrees, translate, shear, tuple(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, dev = x.shape[0], x.device
        a = torch.deg2rad(_uniform(n, -self.degrees, self.degrees, dev))
        s = torch.tan(torch.deg2rad(_uniform(n, -self.shear, self.shear, dev)))
        z = _uniform(n, *self.scale, dev)
        cos, sin = torch.cos(a) / z, torch.sin(a) / z  # output→input map: inverse zoom
        theta = torch.zeros(n, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin + cos * s
        theta[:, 1, 0], theta[:, 1, 1] = sin, cos + sin * s
        theta[:, :, 2] = _uniform(2 * n, -2 * self.translate, 2 * self.translate, dev).view(n, 2)
        return _warp(x, theta)


class ColorJitter(nn.Module):
    """Per-image brightness (×b), contrast (blend with the image mean), saturation (blend with grey),
    each factor drawn from [1 − k, 1 + k]; grey images skip saturation."""

    def __init__(self, brightness: float = 0.3, contrast: float = 0.3, saturation: float = 0.3) -> None:
        super().__init__()
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, dev = x.shape[0], x.device

        def factor(k: float) -> torch.Tensor:
            return _uniform(n, 1 - k, 1 + k, dev).view(n, 1, 1, 1)

        x = x * factor(self.brightness)
        grey = (
            x.mean(1, keepdim=True)
            if x.shape[1] == 1
            else (x * x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        )
        x = (x - grey.mean((2, 3), keepdim=True)) * factor(self.contrast) + grey.mean((2, 3), keepdim=True)
        if x.shape[1] == 3:
            grey = (x * x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            x = (x - grey) * factor(self.saturation) + grey
        return x.clamp(0, 255)


class Cutout(nn.Module):
    """Zero `count` square patches of side `size` per image, centres uniform over the image,
    patches clipped at the border (DeVries & Taylor 2017). It runs on the preprocessed batch
    (`after_preprocess`), as in the paper: a patch is the dataset mean (0 after standardize), not
    black pixels that normalization would turn into −μ/σ."""

    after_preprocess = True

    def __init__(self, size: int, count: int = 1) -> None:
        super().__init__()
        self.size, self.count = size, count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        rows = torch.arange(h, device=x.device).view(1, 1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, 1, w)
        keep = torch.ones(n, 1, h, w, dtype=torch.bool, device=x.device)
        for _ in range(self.count):
            cy = torch.randint(0, h, (n, 1, 1, 1), device=x.device)
            cx = torch.randint(0, w, (n, 1, 1, 1), device=x.device)
            y0, x0 = cy - self.size // 2, cx - self.size // 2
            inside = (rows >= y0) & (rows < y0 + self.size) & (cols >= x0) & (cols < x0 + self.size)
            keep &= ~inside
        return x * keep
