"""Every model builds and runs on 1×8×8, 1×28×28 and 3×32×32 and refuses impossible settings."""

import pytest
import torch
from omegaconf import OmegaConf

from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks
from ablation_lab.models.cnn import CNN
from ablation_lab.models.mlp import MLP
from ablation_lab.models.resnet import ResNet
from ablation_lab.techniques.activations import build_activation

RELU = Blocks(build_activation(OmegaConf.create({"name": "relu"})))
SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "make",
    [
        lambda s: MLP(s, 10, RELU, 2, 32),
        lambda s: CNN(s, 10, RELU, (8, 16)),
        lambda s: ResNet(s, 10, RELU, 8, 8),
    ],
    ids=["mlp", "cnn", "resnet"],
)
def test_models_classify_every_input_shape(make, shape):
    assert make(shape)(torch.rand(2, *shape)).shape == (2, 10)


def test_mlp_depth_and_width():
    net = MLP((1, 8, 8), 10, RELU, depth=3, width=20)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 20), (20, 20), (20, 20), (20, 10)]


def test_resnet_depth_counts_weighted_layers_and_norm_none_removes_bn():
    net = ResNet((3, 32, 32), 10, RELU, depth=20)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == 20  # 19 3×3 convs + the linear head
    assert not any(
        isinstance(m, torch.nn.BatchNorm2d) for m in ResNet((3, 32, 32), 10, RELU, 8, norm="none").modules()
    )


def test_resnet_refuses_bad_depth_and_contradictions():
    with pytest.raises(ConfigError, match="model.depth=21 is not 6n\\+2"):
        ResNet((3, 32, 32), 10, RELU, depth=21)
    with pytest.raises(ConfigError, match="batchnorm contradicts model.norm=none"):
        ResNet((3, 32, 32), 10, Blocks(RELU.act, batchnorm=True), depth=8, norm="none")
