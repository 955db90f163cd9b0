"""The math of each regularizer in techniques/regularizers.py and how they compose."""

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks
from ablation_lab.techniques.activations import build_activation
from ablation_lab.techniques.regularizers import build_regularization


def plan(**groups):
    return build_regularization(OmegaConf.create(groups))


def test_none_is_an_empty_plan():
    p = plan()
    assert p.names == [] and p.dropout is None and not p.batchnorm and p.penalties == []


def test_two_regularizers_compose():
    p = plan(dropout={"p": 0.3}, weight_decay={"lambda": 1e-3, "decoupled": True})
    assert p.names == ["dropout", "weight_decay"]
    assert p.dropout().p == 0.3 and p.weight_decay == 1e-3 and p.decoupled_weight_decay


def test_inverted_dropout_keeps_training_mean_and_is_identity_at_eval():
    torch.manual_seed(0)
    drop = plan(dropout={"p": 0.5}).dropout()
    x = torch.ones(1_000_000)
    y = drop.train()(x)
    assert (y == 0).float().mean().item() == pytest.approx(0.5, abs=0.005)
    assert y.mean().item() == pytest.approx(1.0, rel=0.02)
    assert torch.equal(drop.eval()(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rate_out_of_range_is_refused(p):
    with pytest.raises(ConfigError, match=rf"regularization.dropout.p={p} is out of range"):
        plan(dropout={"p": p})


def test_coupled_weight_decay_gradient_is_lambda_w_on_weights_only():
    lam = 0.01
    net = nn.Linear(5, 3)
    (penalty,) = plan(weight_decay={"lambda": lam, "decoupled": False}).penalties
    penalty(net).backward()
    torch.testing.assert_close(net.weight.grad, lam * net.weight.detach())
    assert net.bias.grad is None


def test_batchnorm_block_order_and_eval_uses_running_stats():
    act = build_activation(OmegaConf.create({"name": "relu"}))
    p = plan(batchnorm={"order": "bn_act_dropout"}, dropout={"p": 0.5})
    block = Blocks(act, p.batchnorm, p.order, p.dropout).linear(4, 4)
    assert [type(m).__name__ for m in block] == ["Linear", "BatchNorm1d", "ReLU", "Dropout"]
    p2 = plan(batchnorm={"order": "dropout_bn_act"}, dropout={"p": 0.5})
    block2 = Blocks(act, p2.batchnorm, p2.order, p2.dropout).linear(4, 4)
    assert [type(m).__name__ for m in block2] == ["Linear", "Dropout", "BatchNorm1d", "ReLU"]
    bn = block[1]
    torch.manual_seed(0)
    block.train()(torch.randn(256, 4) * 3 + 5)
    block.eval()
    x = torch.randn(8, 4)
    expected = (block[0](x) - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    torch.testing.assert_close(bn(block[0](x)), expected * bn.weight + bn.bias)


def test_unknown_regularizer_and_order_are_refused():
    with pytest.raises(ConfigError, match="unknown regularization 'dropblock'"):
        plan(dropblock={"p": 0.1})
    with pytest.raises(ConfigError, match="order 'act_bn'"):
        plan(batchnorm={"order": "act_bn"})
