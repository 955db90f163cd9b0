"""Plain conv stack: one 3×3 conv block per entry of `channels`, each followed by 2×2 max-pooling
while the feature map is at least 2×2, then global average pooling and a linear head."""

from torch import nn

from ablation_lab.models.blocks import Blocks


class CNN(nn.Sequential):
    """A VGG-like classifier that works on 8×8, 28×28 and 32×32 inputs alike."""

    pools = True  # fractional max-pooling can replace its pooling layers

    def __init__(self, in_shape, num_classes: int, blocks: Blocks, channels=(32, 64, 128)) -> None:
        channels = list(channels)
        c_in, size = in_shape[0], min(in_shape[1:])
        layers: list[nn.Module] = []
        for c_out in channels:
            layers.append(blocks.conv(c_in, c_out))
            if size >= 2:
                pool, size = blocks.pool(size)
                layers.append(pool)
            c_in = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
        super().__init__(*layers)
