"""A deep plain net: `depth` identical blocks, no residuals, no normalization unless asked.

The net on which init and activation effects show: every block has the same width, so the
per-layer activation statistics can be compared down the stack.
"""

import math

from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks


class PlainDeep(nn.Sequential):
    """`kind=mlp`: flatten → depth × Linear(width) blocks → head.
    `kind=conv`: depth × 3×3 conv(width) blocks at full resolution → global average pool → head."""

    def __init__(
        self, in_shape, num_classes: int, blocks: Blocks, depth: int = 30, width: int = 256, kind: str = "mlp"
    ) -> None:
        if depth < 1:
            raise ConfigError(f"model.depth={depth}: plain_deep needs at least one block")
        if kind == "mlp":
            layers: list[nn.Module] = [nn.Flatten()]
            n_in = math.prod(in_shape)
            for _ in range(depth):
                layers.append(blocks.linear(n_in, width))
                n_in = width
        else:
            layers, n_in = [], in_shape[0]
            for _ in range(depth):
                layers.append(blocks.conv(n_in, width))
                n_in = width
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)
