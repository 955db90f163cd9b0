"""DropConnect's math (techniques/dropconnect.py): mask rate, per-example masks, expected weights."""

import math

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

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


def relu_unit(inference: str) -> torch.nn.Sequential:
    """One ReLU unit behind a DropConnect layer, as Blocks builds it: inputs v = (1, 1, 1), weights
    (0.14, −0.07, −0.07), p = 0.5. Mean input 0; over masks the unit is 0.14 w.p. 1/8, 0.07 w.p. 1/4."""
    from ablation_lab.models.blocks import Blocks
    from ablation_lab.techniques.activations import build_activation

    relu = build_activation(OmegaConf.create({"name": "relu"}))
    spec = DropConnectSpec(0.5, mask_bias=False, inference=inference, samples=1000)
    block = Blocks(relu, dropconnect=spec).linear(3, 1)
    with torch.no_grad():
        block[0].weight.copy_(torch.tensor([[0.14, -0.07, -0.07]]))
        block[0].bias.zero_()
    return block


def test_one_relu_unit_mean_rule_0_monte_carlo_0035_gaussian_0034():
    """Wan et al.'s point: the mean rule gives the activation of the mean input (0.000), the
    average over masks is 0.035, and the paper's Gaussian moment matching gets 0.034
    (σ/√(2π), σ² = p(1 − p)Σw²v² = 0.00735)."""
    v = torch.ones(200_000, 3)
    torch.manual_seed(0)
    with torch.no_grad():
        mean_rule = relu_unit("mean").eval()(v[:1]).item()
        monte_carlo = relu_unit("mean").train()(v).mean().item()  # a fresh mask per row
        gaussian = relu_unit("gaussian").eval()(v[:200]).mean().item()  # 200 × 1000 draws
    assert mean_rule == 0.0
    assert monte_carlo == pytest.approx(0.035, abs=5e-4)
    assert gaussian == pytest.approx(0.00735**0.5 / (2 * math.pi) ** 0.5, abs=5e-4)
    assert round(gaussian, 3) == 0.034


@pytest.mark.parametrize("conv", [False, True])
def test_moments_are_the_mean_and_variance_over_masks(conv):
    torch.manual_seed(0)
    spec = DropConnectSpec(0.3, inference="gaussian")
    layer = DropConnectConv2d(2, 3, 3, 1, 1, True, spec) if conv else DropConnectLinear(6, 4, True, spec)
    x = torch.randn(1, 2, 5, 5) if conv else torch.randn(1, 6)
    mean, var = layer.moments(x)
    with torch.no_grad():
        draws = layer.train()(x.expand(20_000, *x.shape[1:]))  # a mask per row
    torch.testing.assert_close(draws.mean(0, keepdim=True), mean, atol=0.02, rtol=0.02)
    torch.testing.assert_close(draws.var(0, keepdim=True), var, atol=0.02, rtol=0.05)


def test_a_runs_gaussian_inference_matches_the_average_over_masks_where_the_mean_rule_does_not(make_cfg):
    """layers=last on the run's MLP: logits are linear in the DropConnect block's output, so the
    Gaussian's eval logits estimate the training-mode average over masks; the mean rule is off."""
    from ablation_lab.build import build_model

    def net(inference):
        torch.manual_seed(0)
        knobs = [f"inference={inference}", "layers=last", "p=0.5", "samples=20000"]
        dropconnect = [f"regularization.dropconnect.{k}" for k in knobs]
        return build_model(make_cfg("regularization=dropconnect", *dropconnect, "model.width=64"))

    x = torch.randn(4, 1, 8, 8)
    gaussian, mean_rule = net("gaussian"), net("mean")
    with torch.no_grad():
        rows = [gaussian.train()(x.repeat_interleave(1000, 0)).view(4, 1000, 10) for _ in range(10)]
        average = torch.cat(rows, 1).mean(1)  # 10 000 masks per example
        g_err = (gaussian.eval()(x) - average).abs().max().item()
        m_err = (mean_rule.eval()(x) - average).abs().max().item()
    assert g_err < 0.05 and m_err > 5 * g_err, (g_err, m_err)  # measured 0.021 and 0.36


@pytest.mark.parametrize(("model", "hidden"), [(["model=mlp", "model.depth=3"], 3), (["model=cnn"], 3)])
def test_layers_last_masks_only_the_hidden_layer_before_the_classifier(make_cfg, model, hidden):
    """layers=last: the paper's one DropConnect layer; the others are plain layers with their init."""
    from ablation_lab.build import build_model

    def masked(*knobs):
        torch.manual_seed(0)
        net = build_model(make_cfg("regularization=dropconnect", *knobs, *model))
        affine = [m for m in net.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
        masks = (DropConnectLinear, DropConnectConv2d)
        return [i for i, m in enumerate(affine) if isinstance(m, masks)], affine

    last, affine = masked("regularization.dropconnect.layers=last")
    assert last == [hidden - 1] and len(affine) == hidden + 1  # the classifier (plain) comes last
    assert {type(m).__name__ for m in affine[: hidden - 1]} <= {"Linear", "Conv2d"}
    assert masked("regularization.dropconnect.layers=all")[0] == list(range(hidden))


def test_gaussian_inference_is_refused_where_fixups_scalar_bias_splits_the_block(make_cfg):
    from ablation_lab.build import build_model
    from ablation_lab.errors import ConfigError

    knobs = ["regularization=dropconnect", "regularization.dropconnect.inference=gaussian"]
    with pytest.raises(ConfigError, match="inference=gaussian needs model.norm=batch"):
        build_model(make_cfg(*knobs, "model=resnet", "model.depth=8", "model.norm=none"))
