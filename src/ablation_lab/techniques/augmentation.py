"""Augmentation registry: `data.augment=[<op>, ...]` ↔ entries here, knobs under
`data.augment_args.<op>`. Training only; test-time augmentation (`data.tta`) at evaluation.

Every op works on a whole float batch on the training device (see batch_ops.py).
"""

from collections.abc import Callable

import torch
from torch import nn

from ablation_lab.errors import ConfigError, check_choice
from ablation_lab.techniques import batch_ops

# DeVries & Taylor 2017 (§4): the patch side they found best on each dataset they trained.
CUTOUT_PAPER_SIZES = {"cifar10": 16, "cifar100": 8, "svhn": 20}


def cutout_size(dataset: str, side: int) -> int:
    """Cutout's patch side when none is set, the same for `regularization=cutout` and
    `data.augment=[cutout]`: the paper's for its datasets, else half the image side (CIFAR-10's
    16 of 32): 14 on 28×28 MNIST / Fashion-MNIST, 4 on the 8×8 digits."""
    return CUTOUT_PAPER_SIZES.get(dataset) or max(1, side // 2)


# One entry per op: builds the module from its knobs (a dict), the image side and the dataset name.
OPS: dict[str, Callable[[dict, int, str], nn.Module]] = {
    "hflip": lambda a, size, data: batch_ops.Flip(-1, float(a.get("p", 0.5))),
    "vflip": lambda a, size, data: batch_ops.Flip(-2, float(a.get("p", 0.5))),
    "crop": lambda a, size, data: batch_ops.RandomCrop(int(a.get("pad") or _pad_for(size))),
    "resized_crop": lambda a, size, data: batch_ops.RandomResizedCrop(
        a.get("scale", (0.5, 1.0)), a.get("ratio", (0.75, 4 / 3))
    ),
    "color_jitter": lambda a, size, data: batch_ops.ColorJitter(
        float(a.get("brightness", 0.3)), float(a.get("contrast", 0.3)), float(a.get("saturation", 0.3))
    ),
    "affine": lambda a, size, data: batch_ops.RandomAffine(
        float(a.get("degrees", 15)),
        float(a.get("translate", 0.1)),
        float(a.get("shear", 10)),
        a.get("scale", (0.9, 1.1)),
    ),
    "cutout": lambda a, size, data: batch_ops.Cutout(
        int(a.get("size") or cutout_size(data, size)), int(a.get("count", 1))
    ),
}
PRESETS = {"none": [], "flip_crop": ["crop", "hflip"]}


def _pad_for(size: int) -> int:
    """4 pixels on 32×32 (the CIFAR recipe), scaled to the image size, at least 1."""
    return max(1, round(size / 8))


def _names(augment) -> list[str]:
    names = [augment] if isinstance(augment, str) else list(augment or [])
    expanded: list[str] = []
    for name in names:
        expanded += PRESETS.get(name, [name])
    return expanded


def build_augment(augment, args, in_shape, cutout: dict | None = None, *, dataset: str) -> nn.Sequential:
    """The chosen ops in the order given (`regularization=cutout` appends a Cutout) for the images
    of `dataset` (`data.name`: cutout's default size depends on it)."""
    args = args or {}
    size = int(in_shape[-1])
    ops = []
    for name in _names(augment):
        check_choice("data.augment", name, set(OPS) | set(PRESETS))
        ops.append(OPS[name](dict(args.get(name) or {}), size, dataset))
    if cutout is not None:
        ops.append(batch_ops.Cutout(cutout["size"] or cutout_size(dataset, size), cutout["count"]))
    for op in ops:
        if isinstance(op, batch_ops.Cutout) and op.size > size:
            raise ConfigError(f"cutout size={op.size} is larger than the {size}×{size} images")
    return nn.Sequential(*ops)


def _flips(x: torch.Tensor) -> list[torch.Tensor]:
    return [x, x.flip(-1)]


def _flip_crops(x: torch.Tensor, pad: int) -> list[torch.Tensor]:
    """Identity, flip, and the four shifts by `pad` pixels (zero fill)."""
    views = _flips(x)
    for dy, dx in ((pad, 0), (-pad, 0), (0, pad), (0, -pad)):
        views.append(torch.roll(x, (dy, dx), (-2, -1)) * _shift_mask(x, dy, dx))
    return views


def _shift_mask(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    mask = torch.ones_like(x[:1, :1])
    if dy > 0:
        mask[..., :dy, :] = 0
    elif dy < 0:
        mask[..., dy:, :] = 0
    if dx > 0:
        mask[..., :, :dx] = 0
    elif dx < 0:
        mask[..., :, dx:] = 0
    return mask


TTA = {
    "none": None,
    "hflip": lambda size: _flips,
    "flip_crop": lambda size: lambda x: _flip_crops(x, _pad_for(size)),
}


def build_tta(name: str, size: int):
    """Test-time augmentation: a function from a batch to its fixed list of views, or None."""
    check_choice("data.tta", name, TTA)
    return None if TTA[name] is None else TTA[name](size)
