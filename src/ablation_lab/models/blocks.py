"""The layer factory every model builds from: affine layer → [BN → act → dropout] in the chosen order.

The canonical block is Linear/Conv → BN → activation → Dropout (`bn_act_dropout`); the other
order (`dropout_bn_act`) exists so that the difference can be measured.
"""

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ablation_lab.techniques.activations import Activation


@dataclass(frozen=True)
class Blocks:
    """Builds the blocks of a model from the chosen activation and regularizers."""

    act: Activation
    batchnorm: bool = False
    order: str = "bn_act_dropout"
    dropout: Callable[[], nn.Module] | None = None

    def _after(self, width: int, norm_cls: type[nn.Module]) -> list[nn.Module]:
        norm = [norm_cls(width * self.act.expansion)] if self.batchnorm else []
        drop = [self.dropout()] if self.dropout is not None else []
        act = [self.act(width)]
        if self.order == "dropout_bn_act":
            return drop + norm + act
        return norm + act + drop

    def linear(self, n_in: int, n_out: int) -> nn.Sequential:
        """Linear(n_in → n_out·k) followed by norm, activation and dropout; outputs n_out units."""
        affine = nn.Linear(n_in, n_out * self.act.expansion, bias=not self.batchnorm)
        return nn.Sequential(affine, *self._after(n_out, nn.BatchNorm1d))

    def conv(self, c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
        """3×3 conv (padding 1) followed by norm, activation and dropout; outputs c_out channels."""
        affine = nn.Conv2d(c_in, c_out * self.act.expansion, 3, stride, 1, bias=not self.batchnorm)
        return nn.Sequential(affine, *self._after(c_out, nn.BatchNorm2d))
