"""The math of each activation in techniques/activations.py."""

import pytest
import torch
from omegaconf import OmegaConf

from ablation_lab.errors import ConfigError
from ablation_lab.techniques.activations import ACTIVATIONS, build_activation


def act(name: str, **knobs):
    return build_activation(OmegaConf.create({"name": name, **knobs}))(16)


def test_identity_deep_mlp_is_one_matrix_product():
    torch.manual_seed(0)
    layers = [torch.nn.Linear(8, 8, bias=False) for _ in range(5)]
    net = torch.nn.Sequential(*[m for layer in layers for m in (layer, act("identity"))])
    product = torch.eye(8)
    for layer in layers:
        product = layer.weight @ product
    x = torch.randn(4, 8)
    torch.testing.assert_close(net(x), x @ product.T, rtol=1e-5, atol=1e-5)


def test_sigmoid_derivative_is_f_times_one_minus_f_and_saturates():
    x = torch.linspace(-10, 10, 201, requires_grad=True)
    f = act("sigmoid")(x)
    (grad,) = torch.autograd.grad(f.sum(), x)
    torch.testing.assert_close(grad, (f * (1 - f)).detach())
    assert grad.max().item() == pytest.approx(0.25, abs=1e-6)
    assert grad[0].item() < 1e-4 and grad[-1].item() < 1e-4


def test_tanh_derivative_is_one_minus_f_squared():
    x = torch.linspace(-4, 4, 81, requires_grad=True)
    f = act("tanh")(x)
    (grad,) = torch.autograd.grad(f.sum(), x)
    torch.testing.assert_close(grad, (1 - f**2).detach())


def test_relu_zeroes_negatives():
    x = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0])
    assert act("relu")(x).tolist() == pytest.approx([0.0, 0.0, 0.0, 0.3, 5.0])


def test_gelu_tanh_form_within_1e3_of_erf_form():
    x = torch.linspace(-6, 6, 2001)
    exact, approx = act("gelu", approximate="none")(x), act("gelu", approximate="tanh")(x)
    assert (exact - approx).abs().max().item() < 1e-3
    torch.testing.assert_close(exact, x * 0.5 * (1 + torch.erf(x / 2**0.5)))


def test_unknown_activation_names_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown activation 'relux'.*relu"):
        build_activation(OmegaConf.create({"name": "relux"}))


def test_every_registered_activation_keeps_the_shape():
    x = torch.randn(3, 16)
    for name in ACTIVATIONS:
        assert act(name)(x).shape == x.shape
