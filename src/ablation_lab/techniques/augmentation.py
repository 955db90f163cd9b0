"""Augmentation registry: `data.augment=<name or [names]>` ↔ entries here. Training only.

Every op works on a whole float batch (N, C, H, W) on the training device with tensor ops, one
random draw per sample, instead of per-sample transforms in Python workers.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ablation_lab.errors import check_choice


class HorizontalFlip(nn.Module):
    """Mirror each image left–right with probability p."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flip = torch.rand(x.shape[0], device=x.device) < self.p
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)


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
        chan = torch.arange(c, device=x.device).view(1, c, 1, 1)
        return padded[batch, chan, rows, cols]


def _pad_for(size: int) -> int:
    """4 pixels on 32×32 (the CIFAR recipe), scaled to the image size, at least 1."""
    return max(1, round(size / 8))


AUGMENTS: dict[str, Callable[[int], list[nn.Module]]] = {
    "none": lambda size: [],
    "hflip": lambda size: [HorizontalFlip()],
    "crop": lambda size: [RandomCrop(_pad_for(size))],
    "flip_crop": lambda size: [RandomCrop(_pad_for(size)), HorizontalFlip()],
}


def build_augment(names, image_size: int) -> nn.Module:
    """One nn.Sequential of the chosen ops (a name or a list of names), in the order given."""
    names = [names] if isinstance(names, str) else list(names or [])
    ops: list[nn.Module] = []
    for name in names:
        check_choice("data.augment", name, AUGMENTS)
        ops += AUGMENTS[name](image_size)
    return nn.Sequential(*ops)
