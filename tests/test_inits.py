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


@pytest.mark.parametrize(
    ("name", "knobs", "variance"),
    [
        ("uniform", {"a": 0.1}, 0.1**2 / 3),
        ("normal", {"std": 0.01}, 0.01**2),
        ("fan_in", {}, 1 / (3 * N_IN)),
        ("xavier_uniform", {"gain": 1.0}, 2 / (N_IN + N_OUT)),
        ("xavier_uniform", {"gain": 4.0}, 16 * 2 / (N_IN + N_OUT)),
        ("kaiming_uniform", {}, 2 / N_IN),
        ("lecun_normal", {}, 1 / N_IN),
    ],
)
def test_weight_variance_matches_the_formula(name, knobs, variance):
    assert init_layer(name, **knobs).weight.var().item() == pytest.approx(variance, rel=0.05)


def test_kaiming_gain_follows_leaky_slope_and_selu():
    slope = 0.2
    w = init_layer("kaiming_normal", "leaky_relu").weight
    assert w.var().item() == pytest.approx(2 / (1 + 0.01**2) / N_IN, rel=0.05)
    layer = nn.Linear(N_IN, N_OUT)
    act = build_activation(OmegaConf.create({"name": "leaky_relu", "negative_slope": slope}))
    apply_init(layer, OmegaConf.create({"name": "kaiming_normal"}), act)
    assert layer.weight.var().item() == pytest.approx(2 / (1 + slope**2) / N_IN, rel=0.05)
    # SELU's forward gain is 1, not torch's 3/4: Kaiming with SELU is LeCun's N(0, 1/n_in)
    assert init_layer("kaiming_normal", "selu").weight.var().item() == pytest.approx(1 / N_IN, rel=0.05)


def test_constant_and_orthogonal():
    assert init_layer("constant", value=0.5).weight.unique().tolist() == [0.5]
    w = init_layer("orthogonal", gain=2.0).weight  # 600 × 1000: rows orthonormal × gain
    torch.testing.assert_close(w @ w.T, 4.0 * torch.eye(N_OUT), atol=1e-4, rtol=0)


@pytest.mark.parametrize("activation", ["relu", "swish", "gelu"])
def test_a_runs_kaiming_fan_out_uses_the_backward_gain(make_cfg, activation):
    """Var(w) = g_b²/n_out with g_b from g²·E[f'(g·z)²] = 1, in the model a run builds (mode fan_in
    keeps the forward gain)."""
    from ablation_lab.build import build_model

    act = build_activation(OmegaConf.create({"name": activation}))
    for mode, gain, fan in (("fan_out", act.backward_gain, 0), ("fan_in", act.gain, 1)):
        torch.manual_seed(0)
        knobs = ["init=kaiming_normal", f"init.mode={mode}", "model.width=512"]
        cfg = make_cfg(f"activation={activation}", *knobs)
        hidden = build_model(cfg)[2][0].weight  # 512 × 512 hidden layer
        assert hidden.var().item() == pytest.approx(gain**2 / hidden.shape[fan], rel=0.03)
