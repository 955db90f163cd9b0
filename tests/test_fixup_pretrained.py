"""Whole-model inits: Fixup on a normalization-free ResNet, and weights from a checkpoint."""

import pytest
import torch
from omegaconf import OmegaConf

from ablation_lab.build import build_model
from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks
from ablation_lab.models.mlp import MLP
from ablation_lab.models.resnet import ResNet
from ablation_lab.techniques.activations import build_activation
from ablation_lab.techniques.inits import apply_init, kaiming_fill
from ablation_lab.train import train

RELU = build_activation(OmegaConf.create({"name": "relu"}))


def fixup_resnet(depth: int) -> ResNet:
    return apply_init(
        ResNet((3, 16, 16), 10, Blocks(RELU), depth=depth, norm="none"),
        OmegaConf.create({"name": "fixup"}),
        RELU,
    )


def test_fixup_zeroes_last_conv_of_each_branch_and_scales_the_first():
    net = fixup_resnet(20)
    blocks = [m for m in net.modules() if hasattr(m, "branch_convs")]
    assert len(blocks) == 9
    for b in blocks:
        first, last = b.branch_convs()
        assert last.weight.abs().sum() == 0
        fan_in = first.weight[0].numel()
        assert first.weight.var().item() == pytest.approx(2 / fan_in / 9, rel=0.25)
    assert net.head[-1].weight.abs().sum() == 0


def _branches_moved(make_cfg, init: str, depth: int) -> float:
    """RMS of a run's ResNet features (digits, norm=none) at `init` after each branch's last conv
    has moved from 0 to a He-scale weight (as training moves it): at init the branch is 0 whatever
    the first conv's scale, so only a moved branch shows what Fixup's L^(−1/2) does."""
    torch.manual_seed(0)
    net = build_model(make_cfg("model=resnet", "model.norm=none", f"init={init}", f"model.depth={depth}"))
    for block in [m for m in net.modules() if hasattr(m, "branch_convs")]:
        kaiming_fill(block.branch_convs()[1].weight, RELU)
    x = torch.randn(64, 1, 8, 8)
    with torch.no_grad():
        return net.stages(net.stem(x)).pow(2).mean().sqrt().item()


def test_fixup_keeps_the_residual_sum_bounded_with_depth_once_the_branches_move(make_cfg):
    """Var grows by (1 + 1/L) a block under Fixup (≤ e in all), by ~2 a block without its scaling."""
    fixup = [_branches_moved(make_cfg, "fixup", d) for d in (8, 20, 56)]
    assert max(fixup) / min(fixup) < 2  # measured 1.5
    plain = [_branches_moved(make_cfg, "kaiming_normal", d) for d in (8, 56)]
    assert plain[1] / plain[0] > 100  # measured 770


def test_fixup_refuses_other_models_and_bn():
    with pytest.raises(ConfigError, match="init=fixup needs model=resnet with model.norm=none"):
        apply_init(MLP((1, 8, 8), 10, Blocks(RELU)), OmegaConf.create({"name": "fixup"}), RELU)
    with pytest.raises(ConfigError, match="init=fixup needs"):
        apply_init(ResNet((3, 8, 8), 10, Blocks(RELU), depth=8), OmegaConf.create({"name": "fixup"}), RELU)


def test_pretrained_reproduces_the_checkpoint_and_freshens_a_new_head(make_cfg, tmp_path):
    train(make_cfg())
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    saved = {
        k[4:]: v
        for k, v in torch.load(ckpt, weights_only=False)["state_dict"].items()
        if k.startswith("net.")
    }
    from ablation_lab.build import build_model

    same = build_model(make_cfg("init=pretrained", f"init.path={ckpt}"))
    for k, v in same.state_dict().items():
        torch.testing.assert_close(v, saved[k])
    other = make_cfg(
        "init=pretrained", f"init.path={ckpt}", "init.freeze_backbone=true", "data.num_classes=5"
    )
    net = build_model(other)
    head = net[-1]
    assert head.out_features == 5 and all(p.requires_grad for p in head.parameters())
    torch.testing.assert_close(net[1][0].weight, saved["1.0.weight"])
    assert not any(p.requires_grad for n, p in net.named_parameters() if not n.startswith(str(len(net) - 1)))


def test_pretrained_refuses_a_missing_or_mismatched_checkpoint(make_cfg, tmp_path):
    from ablation_lab.build import build_model

    with pytest.raises(ConfigError, match="init.path='nope.ckpt' is not a file"):
        build_model(make_cfg("init=pretrained", "init.path=nope.ckpt"))
    train(make_cfg())
    with pytest.raises(ConfigError, match="does not fit this model"):
        build_model(make_cfg("init=pretrained", f"init.path={tmp_path}/checkpoints/last.ckpt", "model=cnn"))
