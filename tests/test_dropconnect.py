"""DropConnect's math (techniques/dropconnect.py): mask rate, per-example masks, expected weights."""

import pytest
import torch
import torch.nn.functional as F

from ablation_lab.techniques.dropconnect import DropConnectConv2d, DropConnectLinear, DropConnectSpec


def linear(p=0.3, per_example=True, mask_bias=True, n_in=200, n_out=100):
    torch.manual_seed(0)
    return DropConnectLinear(n_in, n_out, True, DropConnectSpec(p, per_example, mask_bias))


def test_mask_rate_is_p_on_weights_and_biases():
    layer = linear(n_out=1000)
    torch.manual_seed(1)
    weight, bias = layer.sampled(None)
    assert (weight == 0).float().mean().item() == pytest.approx(0.3, abs=0.005)
    assert (bias == 0).float().mean().item() == pytest.approx(0.3, abs=0.03)
    assert torch.equal(weight[weight != 0], layer.weight[weight != 0])  # survivors are not rescaled


@pytest.mark.parametrize("mask_bias", [True, False])
def test_eval_uses_the_expected_weights_and_bias(mask_bias):
    layer = linear(mask_bias=mask_bias).eval()
    x = torch.randn(4, 200)
    bias = 0.7 * layer.bias if mask_bias else layer.bias
    torch.testing.assert_close(layer(x), x @ (0.7 * layer.weight).T + bias)
    torch.testing.assert_close(layer(x), layer(x))


def test_training_output_averages_to_the_eval_output():
    layer = linear(n_in=50, n_out=20)
    x = torch.randn(8, 50)
    torch.manual_seed(2)
    with torch.no_grad():
        mean = torch.stack([layer.train()(x) for _ in range(4000)]).mean(0)
    torch.testing.assert_close(mean, layer.eval()(x), atol=0.03, rtol=0.05)


def test_per_example_masks_differ_between_examples_and_per_batch_masks_do_not():
    # Tolerances, not equality: a batched matmul may sum rows in a thread-dependent order (2.98e-07
    # apart with 2 threads). Outputs are O(1); a different mask moves a row by ~0.1 or more.
    x = torch.randn(1, 200).expand(6, 200)
    out = linear(per_example=True).train()(x)
    assert min((out[0] - out[i]).abs().max().item() for i in range(1, 6)) > 1e-2
    shared = linear(per_example=False).train()(x)
    assert max((shared[0] - shared[i]).abs().max().item() for i in range(1, 6)) < 1e-5


def test_per_example_linear_equals_one_masked_layer_per_example():
    layer = linear().train()
    x = torch.randn(5, 200)
    torch.manual_seed(3)
    weight, bias = layer.sampled(5)
    expected = torch.stack([F.linear(x[i], weight[i], bias[i]) for i in range(5)])
    torch.manual_seed(3)
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize("stride", [1, 2])
def test_per_example_conv_equals_one_masked_conv_per_example(stride):
    torch.manual_seed(0)
    conv = DropConnectConv2d(3, 8, 3, stride, 1, True, DropConnectSpec(0.4)).train()
    x = torch.randn(4, 3, 9, 9)
    torch.manual_seed(4)
    weight, bias = conv.sampled(4)
    expected = torch.cat([F.conv2d(x[i : i + 1], weight[i], bias[i], stride, 1) for i in range(4)])
    torch.manual_seed(4)
    torch.testing.assert_close(conv(x), expected)
    assert (conv.sampled(400)[0] == 0).float().mean().item() == pytest.approx(0.4, abs=0.01)
    torch.testing.assert_close(conv.eval()(x), F.conv2d(x, 0.6 * conv.weight, 0.6 * conv.bias, stride, 1))


def test_gradients_reach_the_stored_weight_only_through_kept_connections():
    layer = linear(per_example=False, n_in=30, n_out=10).train()
    x = torch.randn(4, 30)
    torch.manual_seed(5)
    weight, _ = layer.sampled(None)
    torch.manual_seed(5)
    layer(x).sum().backward()
    assert layer.weight.grad is not None
    assert torch.all(layer.weight.grad[weight == 0] == 0)
