"""Batched augmentations: each image is transformed independently, as specified."""

import pytest
import torch
import torch.nn.functional as F

from ablation_lab.build import build_datamodule, build_module
from ablation_lab.errors import ConfigError
from ablation_lab.techniques.augmentation import build_augment, build_tta
from ablation_lab.techniques.batch_ops import (
    ColorJitter,
    Cutout,
    Flip,
    RandomAffine,
    RandomCrop,
    RandomResizedCrop,
)


@pytest.mark.parametrize("dim", [-1, -2])
def test_flip_mirrors_about_half_the_images_exactly(dim):
    torch.manual_seed(0)
    x = torch.rand(4000, 1, 4, 4)
    y = Flip(dim, 0.5)(x)
    flipped = (y == x.flip(dim)).flatten(1).all(1)
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
    assert (y == 0).any()


def test_cutout_zeroes_the_expected_area():
    torch.manual_seed(0)
    h = w = 16
    size = 6
    x = torch.ones(20000, 1, h, w)
    zeroed = (Cutout(size, 1)(x) == 0).float().mean().item() * h * w

    def expected_len(n: int) -> float:  # overlap of [c − s/2, c − s/2 + s) with [0, n), c uniform
        return sum(min(n, c - size // 2 + size) - max(0, c - size // 2) for c in range(n)) / n

    assert zeroed == pytest.approx(expected_len(h) * expected_len(w), rel=0.02)


def test_cutout_draws_patches_per_image():
    torch.manual_seed(0)
    y = Cutout(4, 1)(torch.ones(8, 1, 16, 16))
    assert len({tuple(m.flatten().tolist()) for m in (y == 0)}) > 1


def test_resized_crop_and_affine_keep_shape_and_identity_settings_keep_the_image():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 12, 12) * 255
    assert RandomResizedCrop((0.3, 1.0))(x).shape == x.shape
    torch.testing.assert_close(RandomResizedCrop((1.0, 1.0), (1.0, 1.0))(x), x, atol=1e-3, rtol=0)
    torch.testing.assert_close(RandomAffine(0, 0, 0, (1.0, 1.0))(x), x, atol=1e-3, rtol=0)
    rotated = RandomAffine(degrees=45, translate=0, shear=0, scale=(1, 1))(x)
    assert (rotated - x).abs().mean() > 10


def test_color_jitter_brightness_scales_and_stays_in_range():
    torch.manual_seed(0)
    x = torch.full((1000, 3, 4, 4), 100.0)
    y = ColorJitter(brightness=0.5, contrast=0, saturation=0)(x)
    factors = y[:, 0, 0, 0] / 100
    assert factors.min() >= 0.5 - 1e-4 and factors.max() <= 1.5 + 1e-4 and factors.std() > 0.2
    wild = ColorJitter(0.9, 0.9, 0.9)(torch.rand(64, 3, 4, 4) * 255)
    assert wild.min() >= 0 and wild.max() <= 255


def test_presets_lists_knobs_and_none():
    assert len(build_augment("none", None, (1, 32, 32), dataset="mnist")) == 0
    assert [type(m).__name__ for m in build_augment("flip_crop", None, (1, 32, 32), dataset="mnist")] == [
        "RandomCrop",
        "Flip",
    ]
    ops = build_augment(
        ["hflip", "crop", "cutout"],
        {"crop": {"pad": 3}, "cutout": {"size": 5, "count": 2}},
        (3, 32, 32),
        dataset="cifar10",
    )
    assert ops[1].pad == 3 and (ops[2].size, ops[2].count) == (5, 2)
    assert (
        build_augment("crop", None, (1, 32, 32), dataset="mnist")[0].pad == 4
        and build_augment("crop", None, (1, 8, 8), dataset="digits")[0].pad == 1
    )


def test_tta_views():
    x = torch.rand(2, 1, 8, 8)
    assert build_tta("none", 8) is None
    views = build_tta("hflip", 8)(x)
    assert len(views) == 2 and torch.equal(views[1], x.flip(-1))
    assert len(build_tta("flip_crop", 8)(x)) == 6


def test_unknown_augment_and_oversized_cutout_are_refused():
    with pytest.raises(ConfigError, match="unknown data.augment 'rotate'"):
        build_augment(["hflip", "rotate"], None, (1, 32, 32), dataset="mnist")
    with pytest.raises(ConfigError, match="cutout size=12 is larger than the 8×8 images"):
        build_augment(["cutout"], {"cutout": {"size": 12}}, (1, 8, 8), dataset="digits")


def test_cutout_patches_are_the_dataset_mean_after_preprocessing(make_cfg):
    """What the network sees: cutout runs after standardization (DeVries & Taylor), so a patch is
    0 = the training mean, not black pixels turned into −μ/σ."""
    from ablation_lab.build import build_datamodule, build_module

    cfg = make_cfg("regularization=cutout", "regularization.cutout.size=4", "data.preprocess=standardize")
    dm = build_datamodule(cfg)
    module = build_module(cfg, dm)
    seen = []

    def capture(module, args):
        seen.append(args[0].detach())
        raise StopIteration  # the input is all this test needs

    module.net.register_forward_pre_hook(capture)
    x = torch.full((256, 1, 8, 8), 255.0)  # white images: standardized values far from 0
    with pytest.raises(StopIteration):
        module.training_step((x, torch.zeros(256, dtype=torch.long)), 0)
    (net_input,) = seen
    white = module.preprocess(x[:1]).flatten()[0].item()
    assert white > 1
    values = set(net_input.unique().tolist())
    assert values == {0.0, white}
    assert (net_input == 0).float().mean().item() > 0.1


def _fake(data: str, root, monkeypatch) -> None:
    """Tiny files of `data` in torchvision's format under `root` (digits ships with scikit-learn)."""
    import torchvision.datasets as tvd

    from fake_datasets import write_cifar10, write_cifar100, write_mnist, write_svhn

    writers = {"cifar10": (write_cifar10, tvd.CIFAR10), "cifar100": (write_cifar100, tvd.CIFAR100)}
    writers["svhn"] = (write_svhn, tvd.SVHN)
    if data in writers:
        write, cls = writers[data]
        for attr, value in write(root).items():
            monkeypatch.setattr(cls, attr, value)
    elif data == "mnist":
        write_mnist(root, "MNIST")


@pytest.mark.parametrize(
    ("data", "size"),
    [("cifar10", 16), ("cifar100", 8), ("svhn", 20), ("mnist", 14), ("digits", 4)],
)
@pytest.mark.parametrize("chosen", ["regularization=cutout", "data.augment=[cutout]"])
def test_cutout_is_one_technique_with_the_papers_size_per_dataset(
    make_cfg, tmp_path, monkeypatch, data, size, chosen
):
    """DeVries & Taylor's sides (CIFAR-10 16, CIFAR-100 8, SVHN 20), half the side elsewhere, the
    same through either way of choosing it; read off the module a run builds."""
    _fake(data, tmp_path / "data", monkeypatch)
    cfg = make_cfg(f"data={data}", chosen)
    module = build_module(cfg, build_datamodule(cfg))
    (cutout,) = module.erase
    assert (type(cutout), cutout.size, cutout.count) == (Cutout, size, 1)
