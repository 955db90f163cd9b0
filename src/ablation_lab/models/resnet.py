"""CIFAR-style ResNet (He et al. 2016, §4.2): depth = 6n+2, three stages of n basic blocks with
`width`, 2·width, 4·width channels, the last two stages halving the resolution."""

from dataclasses import replace

import torch
from torch import nn

from ablation_lab.errors import ConfigError
from ablation_lab.models.blocks import Blocks


class BasicBlock(nn.Module):
    """out = act(branch(x) + shortcut(x)), branch = conv-[bn]-act-[dropout]-conv-[bn].

    Without normalization the block carries Fixup's scalar biases (0) and multiplier (1): the
    identity at init, whatever the init, so `norm=none` runs differ from Fixup only by the init.
    """

    def __init__(
        self, c_in: int, c_out: int, stride: int, blocks: Blocks, drop_path: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.drop_path = drop_path or nn.Identity()
        bn = blocks.batchnorm
        self.first = blocks.conv(c_in, c_out, stride)
        norm2 = [nn.BatchNorm2d(c_out)] if bn else []
        self.second = nn.Sequential(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=not bn), *norm2)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            proj = [nn.Conv2d(c_in, c_out, 1, stride, bias=not bn)] + ([nn.BatchNorm2d(c_out)] if bn else [])
            self.shortcut = nn.Sequential(*proj)
        self.act = blocks.act(c_out)
        self.scalars = not bn
        if self.scalars:
            self.bias1a, self.bias1b, self.bias2a, self.bias2b = (
                nn.Parameter(torch.zeros(1)) for _ in range(4)
            )
            self.scale = nn.Parameter(torch.ones(1))

    def branch_convs(self) -> tuple[nn.Conv2d, nn.Conv2d]:
        """The first and last conv of the residual branch."""
        return self.first[0], self.second[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.scalars:
            return self.act(self.drop_path(self.second(self.first(x))) + self.shortcut(x))
        x = x + self.bias1a
        out = self.first[1:](self.first[0](x) + self.bias1b)
        out = self.second(out + self.bias2a) * self.scale + self.bias2b
        return self.act(self.drop_path(out) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet-(6n+2) for small images; `norm: batch` is the paper's, `none` removes every BN."""

    def __init__(
        self,
        in_shape,
        num_classes: int,
        blocks: Blocks,
        depth: int = 20,
        width: int = 16,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ConfigError(f"model.depth={depth} is not 6n+2 with n ≥ 1 (e.g. 8, 14, 20, 32, 56, 110)")
        if blocks.act.expansion != 1:
            raise ConfigError(f"activation={blocks.act.name} changes layer width; the ResNet's sums need 1:1")
        if blocks.batchnorm and norm == "none":
            raise ConfigError("regularization=batchnorm contradicts model.norm=none; drop one of them")
        blocks = replace(blocks, batchnorm=norm == "batch")
        gaussian = blocks.dropconnect is not None and blocks.dropconnect.inference == "gaussian"
        if gaussian and not blocks.batchnorm:  # Fixup's scalar bias splits the conv from its activation
            raise ConfigError("regularization.dropconnect.inference=gaussian needs model.norm=batch (resnet)")
        self.has_norm = blocks.batchnorm
        n = (depth - 2) // 6
        bn = [nn.BatchNorm2d(width)] if blocks.batchnorm else []
        self.stem = nn.Sequential(nn.Conv2d(in_shape[0], width, 3, 1, 1, bias=not bn), *bn, blocks.act(width))
        stages, c_in = [], width
        for i, c_out in enumerate((width, 2 * width, 4 * width)):
            for j in range(n):
                drop = blocks.drop_path(len(stages) + 1, 3 * n)
                stages.append(BasicBlock(c_in, c_out, 2 if (i > 0 and j == 0) else 1, blocks, drop))
                c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))

    residual = True  # stochastic depth can drop its branches

    def feature_modules(self) -> list[nn.Module]:
        """The residual blocks: where auxiliary classifiers may tap features."""
        return list(self.stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))
