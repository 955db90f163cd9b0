"""DropConnect (Wan et al. 2013): every weight, and every bias, of a layer is kept with probability
1 − p in training, with a fresh mask for each example (the paper) or one mask per batch (cheaper).
Not timm's "drop connect", which is drop-path (stochastic depth).

Inference, `inference`:
- `mean`: the layer uses the expected weights (1 − p)·W, (1 − p)·b: activation of the mean input.
  Cheap, and not the paper's: for a ReLU unit whose mean input is 0 it gives 0 where the average
  over masks is positive (tests/test_dropconnect.py: 0.000 vs 0.035).
- `gaussian`: the paper's (its Algorithm 2): each unit's input u = (M⊙W)v is taken as Gaussian with
  the masks' mean μ = (1 − p)Wv and variance σ² = p(1 − p)(W⊙W)(v⊙v); the block's norm and
  activation are applied to `samples` draws of u and averaged (0.034 in the same example).
Layers, `layers`: `all` masks every hidden layer the model builds with Blocks; `last` only the
one nearest the classifier (the paper's DropConnect layer is the fully connected layer before its
softmax layer; on a conv net here, the last conv block).

The layers subclass nn.Linear / nn.Conv2d: same parameters, same state-dict keys, so every init,
Fixup, the diagnostics and pretrained loading see the stored weights themselves.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DropConnectSpec:
    """p: drop probability; per_example: a mask per example (else per batch); mask_bias: biases too;
    inference: mean | gaussian, with `samples` draws per unit; layers: all | last."""

    p: float
    per_example: bool = True
    mask_bias: bool = True
    inference: str = "mean"
    samples: int = 1000
    layers: str = "all"


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

    def moments(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance over masks of each output: (1 − p)(Wx + b), p(1 − p)(W²x² + b²)
        (b only where it is masked)."""
        p = self.spec.p
        bias = None if self.bias is None or not self.spec.mask_bias else self.bias.square()
        var = p * (1 - p) * self.layer(x.square(), self.weight.square(), bias)
        return self.layer(x, *self.expected()), var

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
        inference = f"inference={s.inference}" + (f"({s.samples})" if s.inference == "gaussian" else "")
        return f"{super().extra_repr()}, {knobs}, {inference}"


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


class GaussianInference(nn.Sequential):
    """A block (DropConnect layer, then norm / activation / dropout) whose evaluation is the paper's:
    the mean over `samples` Gaussian draws of the layer's output of the rest of the block. In
    training, and for a layer with the mean rule, it is the plain sequence."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layer = self[0]
        if self.training or not isinstance(layer, _Masked) or layer.spec.inference != "gaussian":
            return super().forward(x)
        mean, var = layer.moments(x)
        std, total, rest = var.sqrt(), layer.spec.samples, self[1:]
        chunk = max(1, min(total, 2**22 // mean.numel()))  # draws per pass, memory-bounded
        out, done = None, 0
        while done < total:
            k = min(chunk, total - done)
            u = mean + std * torch.randn((k, *mean.shape), device=mean.device, dtype=mean.dtype)
            y = rest(u.flatten(0, 1))
            y = y.view(k, -1, *y.shape[1:]).sum(0)
            out, done = (y if out is None else out + y), done + k
        return out / total


def keep_last_only(net: nn.Module) -> nn.Module:
    """layers=last: DropConnect stays on the last DropConnect layer of `net` (nearest the classifier);
    the others become the plain nn.Linear / nn.Conv2d they subclass (same object and parameters)."""
    masked = [m for m in net.modules() if isinstance(m, _Masked)]
    for layer in masked[:-1]:
        del layer.spec
        layer.__class__ = nn.Linear if isinstance(layer, nn.Linear) else nn.Conv2d
    return net
