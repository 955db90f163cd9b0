"""Weight variances of each init in techniques/inits.py, on a wide layer (within 5%)."""

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.techniques.activations import build_activation
from ablation_lab.techniques.inits import apply_init

N_IN, N_OUT = 1000, 600


def init_layer(name: str, activation: str = "relu", **knobs) -> nn.Linear:
    torch.manual_seed(0)
    layer = nn.Linear(N_IN, N_OUT)
    act = build_activation(OmegaConf.create({"name": activation}))
    apply_init(layer, OmegaConf.create({"name": name, **knobs}), act)
    return layer


def test_xavier_normal_variance_is_2_over_fan_in_plus_fan_out():
    w = init_layer("xavier_normal").weight
    assert w.var().item() == pytest.approx(2 / (N_IN + N_OUT), rel=0.05)
    assert abs(w.mean().item()) < 1e-3


@pytest.mark.parametrize(("activation", "gain2"), [("relu", 2.0), ("tanh", (5 / 3) ** 2), ("sigmoid", 1.0)])
def test_kaiming_normal_variance_is_gain_squared_over_fan_in(activation, gain2):
    w = init_layer("kaiming_normal", activation).weight
    assert w.var().item() == pytest.approx(gain2 / N_IN, rel=0.05)


def test_kaiming_normal_fan_out_mode():
    w = init_layer("kaiming_normal", mode="fan_out").weight
    assert w.var().item() == pytest.approx(2 / N_OUT, rel=0.05)


def test_zeros_zeroes_weights_and_biases():
    layer = init_layer("zeros")
    assert layer.weight.abs().sum().item() == 0 and layer.bias.abs().sum().item() == 0


def test_default_keeps_torch_init_and_bias_knob_sets_biases():
    torch.manual_seed(0)
    reference = nn.Linear(N_IN, N_OUT)
    torch.testing.assert_close(init_layer("default").weight, reference.weight)
    torch.testing.assert_close(init_layer("xavier_normal", bias=0.1).bias, torch.full((N_OUT,), 0.1))


def test_norm_layers_keep_their_own_init():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    act = build_activation(OmegaConf.create({"name": "relu"}))
    apply_init(net, OmegaConf.create({"name": "zeros"}), act)
    assert net[1].weight.tolist() == [1.0] * 4


def test_unknown_init_and_mode_are_refused():
    with pytest.raises(ConfigError, match="unknown init 'he'"):
        init_layer("he")
    with pytest.raises(ConfigError, match="init.mode 'fan_avg'"):
        init_layer("kaiming_normal", mode="fan_avg")
