"""Batched augmentations: each image is transformed independently, as specified."""

import pytest
import torch
import torch.nn.functional as F

from ablation_lab.errors import ConfigError
from ablation_lab.techniques.augmentation import HorizontalFlip, RandomCrop, build_augment


def test_horizontal_flip_mirrors_about_half_the_images_exactly():
    torch.manual_seed(0)
    x = torch.rand(4000, 1, 4, 4)
    y = HorizontalFlip(0.5)(x)
    flipped = (y == x.flip(-1)).flatten(1).all(1)
    kept = (y == x).flatten(1).all(1)
    assert bool((flipped | kept).all())
    assert flipped.float().mean().item() == pytest.approx(0.5, abs=0.03)


def test_random_crop_is_a_window_of_the_zero_padded_image():
    torch.manual_seed(0)
    x = torch.rand(64, 3, 8, 8) + 1  # strictly positive, so padding shows as zeros
    y = RandomCrop(2)(x)
    assert y.shape == x.shape
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):
        windows = [padded[i, :, dy : dy + 8, dx : dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(y[i], w) for w in windows)
    assert (y == 0).any()  # some crops reach into the padding


def test_presets_lists_and_none():
    assert len(build_augment("none", 32)) == 0
    assert [type(m).__name__ for m in build_augment("flip_crop", 32)] == ["RandomCrop", "HorizontalFlip"]
    assert [type(m).__name__ for m in build_augment(["hflip", "crop"], 32)] == [
        "HorizontalFlip",
        "RandomCrop",
    ]
    assert build_augment("crop", 32)[0].pad == 4 and build_augment("crop", 8)[0].pad == 1


def test_unknown_augment_is_refused():
    with pytest.raises(ConfigError, match="unknown data.augment 'rotate'"):
        build_augment(["hflip", "rotate"], 32)
