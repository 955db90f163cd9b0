"""Preprocessing statistics come from the training split and are applied unchanged elsewhere."""

import pytest
import torch

from ablation_lab.errors import ConfigError
from ablation_lab.techniques.preprocessing import fit_preprocess


def images(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.tensor([40.0, 120.0, 200.0]).view(1, 3, 1, 1)
    spread = torch.tensor([10.0, 30.0, 20.0]).view(1, 3, 1, 1)
    return (base + spread * torch.randn(n, 3, 8, 8, generator=g)).clamp(0, 255).round().to(torch.uint8)


def test_standardize_gives_train_split_zero_mean_unit_std_per_channel():
    train = images(2000, 0)
    out = fit_preprocess("standardize", train)(train.float())
    per_channel = out.transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(per_channel.mean(1), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(per_channel.std(1), torch.ones(3), atol=1e-4, rtol=0)


def test_standardize_applies_the_train_statistics_to_validation():
    train, val = images(2000, 0), images(500, 1) // 2  # val deliberately shifted
    pre = fit_preprocess("standardize", train)
    mean = train.float().transpose(0, 1).reshape(3, -1).mean(1).view(1, 3, 1, 1)
    std = train.float().transpose(0, 1).reshape(3, -1).std(1).view(1, 3, 1, 1)
    torch.testing.assert_close(pre(val.float()), (val.float() - mean) / std)
    assert pre(val.float()).mean().item() < -1  # not re-centred on the validation split


def test_scale01_and_none():
    x = torch.tensor([[[[0, 51, 255]]]], dtype=torch.uint8)
    assert fit_preprocess("scale01", x)(x.float()).flatten().tolist() == pytest.approx([0, 0.2, 1])
    assert torch.equal(fit_preprocess("none", x)(x.float()), x.float())


def test_statistics_are_buffers_so_checkpoints_carry_them():
    pre = fit_preprocess("standardize", images(100, 0))
    assert set(pre.state_dict()) == {"shift", "scale"}


def test_unknown_preprocess_is_refused():
    with pytest.raises(ConfigError, match="unknown data.preprocess 'whiten'"):
        fit_preprocess("whiten", images(4, 0))


def correlated(n: int, seed: int, d: int = 16) -> torch.Tensor:
    """Images (N, 1, 4, 4) with strongly correlated pixels, full-rank covariance."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.eye(d) + 0.8 * torch.rand(d, d, generator=g)
    z = torch.randn(n, d, generator=g) @ mix.T
    return (128 + 12 * z).clamp(0, 255).round().to(torch.uint8).view(n, 1, 4, 4)


def covariance(x: torch.Tensor) -> torch.Tensor:
    flat = x.flatten(1).double()
    flat = flat - flat.mean(0)
    return flat.T @ flat / (len(flat) - 1)


@pytest.mark.parametrize("name", ["zca_whiten", "pca_whiten"])
def test_whitening_gives_identity_covariance_on_the_training_split(name):
    train = correlated(20000, 0)
    out = fit_preprocess(name, train, eps=1e-6)(train.float())
    assert (covariance(out) - torch.eye(16, dtype=torch.float64)).abs().max().item() < 0.05
    assert covariance(train.float()).abs().max() > 10  # it was far from I before


def test_zca_stays_close_to_the_image_and_applies_train_statistics_to_validation():
    train, val = correlated(20000, 0), correlated(5000, 1)
    zca = fit_preprocess("zca_whiten", train, eps=1e-6)
    pca = fit_preprocess("pca_whiten", train, eps=1e-6)
    centred = train.flatten(1).double() - train.flatten(1).double().mean(0)
    corr = [
        torch.corrcoef(torch.stack([centred[:, 5], m(train.float()).flatten(1)[:, 5].double()]))[0, 1]
        for m in (zca, pca)
    ]
    assert corr[0] > 0.5 > abs(corr[1])  # ZCA keeps pixel 5 looking like pixel 5, PCA does not
    out_val = zca(val.float()).flatten(1).double()
    expected = (val.flatten(1).double() / 255 - zca.mean.double()) @ zca.matrix.double().T
    torch.testing.assert_close(out_val, expected, atol=1e-4, rtol=1e-4)


def test_min_max_max_norm_mean_image_channel_mean():
    x = images(500, 0)
    mm = fit_preprocess("min_max", x)(x.float())
    assert mm.min().item() == 0.0 and mm.max().item() == pytest.approx(1.0)
    assert fit_preprocess("max_norm", x)(x.float()).max().item() == pytest.approx(1.0)
    mean_image = fit_preprocess("mean_image", x)(x.float()).mean(0)
    torch.testing.assert_close(mean_image, torch.zeros_like(mean_image), atol=1e-3, rtol=0)
    per_channel = fit_preprocess("channel_mean", x)(x.float()).transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(per_channel.mean(1), torch.zeros(3), atol=1e-3, rtol=0)
    assert per_channel.std(1).min() > 5  # centred, not scaled
