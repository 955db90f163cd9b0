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
