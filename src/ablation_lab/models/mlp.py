"""Multi-layer perceptron: flatten → `depth` hidden blocks of `width` units → linear head."""

import math

from torch import nn

from ablation_lab.models.blocks import Blocks


class MLP(nn.Sequential):
    """A fully connected classifier for any input shape."""

    def __init__(self, in_shape, num_classes: int, blocks: Blocks, depth: int = 2, width: int = 256) -> None:
        layers: list[nn.Module] = [nn.Flatten()]
        n_in = math.prod(in_shape)
        for _ in range(depth):
            layers.append(blocks.linear(n_in, width))
            n_in = width
        layers.append(nn.Linear(n_in, num_classes))
        super().__init__(*layers)
