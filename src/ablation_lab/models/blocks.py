"""The layer factory every model builds from: affine layer → [BN → act → dropout] in the chosen order.

The canonical block is Linear/Conv → BN → activation → Dropout (`bn_act_dropout`); the other
order (`dropout_bn_act`) exists so that the difference can be measured. Regularizers that live in
the model (dropout, DropConnect, fractional max-pooling, stochastic depth) arrive here, so models
call `blocks.linear`, `blocks.conv`, `blocks.pool`, `blocks.drop_path` and never name a technique.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torchvision.ops import StochasticDepth

from ablation_lab.techniques.activations import Activation
from ablation_lab.techniques.dropconnect import (
    DropConnectConv2d,
    DropConnectLinear,
    DropConnectSpec,
    GaussianInference,
)


@dataclass(frozen=True)
class Blocks:
    """Builds the blocks of a model from the chosen activation and regularizers.

    `dropout` follows fully connected blocks; `conv_dropout` says whether conv blocks get it too."""

    act: Activation
    batchnorm: bool = False
    order: str = "bn_act_dropout"
    dropout: Callable[[], nn.Module] | None = None
    dropconnect: DropConnectSpec | None = None
    pool_ratio: float | None = None
    drop_path_last: float | None = None
    conv_dropout: bool = True
    drop_path_mode: str = "row"

    def _block(
        self, affine: nn.Module, width: int, norm_cls: type[nn.Module], dropout: bool
    ) -> nn.Sequential:
        norm = [norm_cls(width * self.act.expansion)] if self.batchnorm else []
        drop = [self.dropout()] if self.dropout is not None and dropout else []
        act = [self.act(width)]
        tail = drop + norm + act if self.order == "dropout_bn_act" else norm + act + drop
        gaussian = self.dropconnect is not None and self.dropconnect.inference == "gaussian"
        block = (GaussianInference if gaussian else nn.Sequential)(affine, *tail)
        block.is_block = True  # a feature tap for auxiliary classifiers
        return block

    def linear(self, n_in: int, n_out: int) -> nn.Sequential:
        """Linear(n_in → n_out·k) followed by norm, activation and dropout; outputs n_out units."""
        width, bias = n_out * self.act.expansion, not self.batchnorm
        if self.dropconnect is None:
            affine = nn.Linear(n_in, width, bias=bias)
        else:
            affine = DropConnectLinear(n_in, width, bias, self.dropconnect)
        return self._block(affine, n_out, nn.BatchNorm1d, dropout=True)

    def conv(self, c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
        """3×3 conv (padding 1) followed by norm, activation and dropout; outputs c_out channels."""
        width, bias = c_out * self.act.expansion, not self.batchnorm
        if self.dropconnect is None:
            affine = nn.Conv2d(c_in, width, 3, stride, 1, bias=bias)
        else:
            affine = DropConnectConv2d(c_in, width, 3, stride, 1, bias, self.dropconnect)
        return self._block(affine, c_out, nn.BatchNorm2d, dropout=self.conv_dropout)

    def pool(self, size: int) -> tuple[nn.Module, int]:
        """2×2 max-pooling, or fractional max-pooling (Graham 2014) at `pool_ratio`; new size."""
        if self.pool_ratio is None:
            return nn.MaxPool2d(2), size // 2
        return nn.FractionalMaxPool2d(2, output_ratio=self.pool_ratio), int(size * self.pool_ratio)

    def drop_path(self, index: int, total: int) -> nn.Module:
        """Stochastic depth (Huang et al. 2016) for residual branch `index` of `total` (1-based):
        survival p_l = 1 − (l/L)(1 − p_L), survivors scaled by 1/p_l in training (torchvision).
        drop_path_mode `batch`: the whole mini-batch keeps or drops the branch (the paper's);
        `row`: each example draws its own (timm's drop-path)."""
        if self.drop_path_last is None:
            return nn.Identity()
        survival = 1 - index / total * (1 - self.drop_path_last)
        return StochasticDepth(1 - survival, mode=self.drop_path_mode)
