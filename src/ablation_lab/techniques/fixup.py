"""Fixup (Zhang, Dauphin & Ma 2019): train a deep ResNet without normalization.

For L residual branches of m = 2 convs each: the first conv of each branch is He-initialized and
scaled by L^(−1/(2m−2)) = L^(−1/2), the last conv of each branch and the classifier start at 0;
the scalar biases and multiplier of each block (ResNet with norm=none) start at 0 and 1.
"""

from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.techniques.activations import Activation
from ablation_lab.techniques.inits import kaiming_fill


def fixup_init(model: nn.Module, act: Activation) -> nn.Module:
    from ablation_lab.models.resnet import BasicBlock, ResNet

    if not isinstance(model, ResNet) or model.has_norm:
        raise ConfigError("init=fixup needs model=resnet with model.norm=none (it replaces normalization)")
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    scale = len(blocks) ** -0.5
    for layer in model.modules():
        if isinstance(layer, nn.Conv2d):
            kaiming_fill(layer.weight, act)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    for block in blocks:
        first, last = block.branch_convs()
        first.weight.data.mul_(scale)
        nn.init.zeros_(last.weight)
    head = model.head[-1]
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    return model
