"""DropConnect (Wan et al. 2013): every weight, and every bias, of a layer is kept with probability
1 − p in training, with a fresh mask for each example (the paper) or one mask per batch (cheaper);
at test time the layer uses the expected weights (1 − p)·W, (1 − p)·b (the paper's mean inference).
Not timm's "drop connect", which is drop-path (stochastic depth).

The layers subclass nn.Linear / nn.Conv2d: same parameters, same state-dict keys, so every init,
Fixup, the diagnostics and pretrained loading see the stored weights themselves.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DropConnectSpec:
    """p: drop probability; per_example: a mask per example (else per batch); mask_bias: biases too."""

    p: float
    per_example: bool = True
    mask_bias: bool = True


class _Masked:
    """The weight and bias a DropConnect layer uses: sampled in training, expected at test."""

    spec: DropConnectSpec
    training: bool
    weight: torch.Tensor
    bias: torch.Tensor | None

    def _keep(self, t: torch.Tensor, batch: int | None) -> torch.Tensor:
        shape = t.shape if batch is None else (batch, *t.shape)
        return t * (torch.rand(shape, device=t.device, dtype=t.dtype) >= self.spec.p)

    def expected(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        keep = 1.0 - self.spec.p
        bias = self.bias * keep if self.bias is not None and self.spec.mask_bias else self.bias
        return self.weight * keep, bias

    def sampled(self, batch: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(W ⊙ M, b ⊙ m), with a leading batch dimension when `batch` is given."""
        bias = self.bias
        if bias is not None and self.spec.mask_bias:
            bias = self._keep(bias, batch)
        elif bias is not None and batch is not None:
            bias = bias.expand(batch, -1)
        return self._keep(self.weight, batch), bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.layer(x, *self.expected())
        if not self.spec.per_example:
            return self.layer(x, *self.sampled(None))
        return self.per_example(x, *self.sampled(x.shape[0]))

    def layer(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """The layer's own operation with the given weight and bias."""
        raise NotImplementedError

    def per_example(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """The operation with a weight (and bias) per example: a leading batch dimension on each."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        s = self.spec
        knobs = f"dropconnect p={s.p}, per_example={s.per_example}, mask_bias={s.mask_bias}"
        return f"{super().extra_repr()}, {knobs}"


class DropConnectLinear(_Masked, nn.Linear):
    """nn.Linear with DropConnect on its weight and bias."""

    def __init__(self, in_features: int, out_features: int, bias: bool, spec: DropConnectSpec) -> None:
        super().__init__(in_features, out_features, bias)
        self.spec = spec

    def layer(self, x, weight, bias):
        return F.linear(x, weight, bias)

    def per_example(self, x, weight, bias):  # (N, out, in), (N, out)
        out = torch.einsum("ni,noi->no", x, weight)
        return out if bias is None else out + bias


class DropConnectConv2d(_Masked, nn.Conv2d):
    """nn.Conv2d with DropConnect; per-example masks run as one grouped convolution (groups × N)."""

    def __init__(
        self, c_in: int, c_out: int, kernel_size, stride, padding, bias: bool, spec: DropConnectSpec
    ):
        super().__init__(c_in, c_out, kernel_size, stride, padding, bias=bias)
        self.spec = spec

    def layer(self, x, weight, bias):
        return self._conv_forward(x, weight, bias)

    def per_example(self, x, weight, bias):  # (N, out, in/groups, k, k), (N, out)
        n = x.shape[0]
        out = F.conv2d(
            x.reshape(1, -1, *x.shape[2:]),
            weight.flatten(0, 1),
            None if bias is None else bias.flatten(),
            self.stride,
            self.padding,
            self.dilation,
            self.groups * n,
        )
        return out.view(n, self.out_channels, *out.shape[2:])
