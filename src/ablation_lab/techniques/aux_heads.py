"""Auxiliary classifiers: where they tap the network and how large they are."""

import math

import torch
from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.techniques.regularizer_modules import AuxHeads, feature_taps
from ablation_lab.techniques.regularizers import RegularizationPlan


def tap_modules(net: nn.Module, positions) -> list[nn.Module]:
    """The hidden blocks at the given fractions x of the depth: block ⌈x·L⌉ of L (1-based), never
    the last one, whose features the main classifier already sees (0.5 of 2 blocks: block 1)."""
    taps = feature_taps(net)
    if len(taps) < 2:
        raise ConfigError(
            f"regularization=aux_classifier needs at least 2 hidden blocks to tap an intermediate one; "
            f"this model has {len(taps)}"
        )
    return [taps[min(len(taps) - 2, max(0, math.ceil(x * len(taps)) - 1))] for x in positions]


def build_aux_heads(net: nn.Module, plan: RegularizationPlan, in_shape, num_classes: int) -> AuxHeads | None:
    """Heads sized by one dry forward pass; None when aux_classifier is not chosen."""
    if not plan.aux_positions:
        return None
    shapes = []
    hooks = [
        m.register_forward_hook(lambda m, a, out: shapes.append(out.shape[1:]))
        for m in tap_modules(net, plan.aux_positions)
    ]
    was_training = net.training
    with torch.no_grad():
        net.eval()(torch.zeros(1, *in_shape))
    net.train(was_training)
    for h in hooks:
        h.remove()
    return AuxHeads(shapes, num_classes)
