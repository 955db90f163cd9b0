"""Per-layer statistics of a network: activations (via forward hooks), gradients and updates.

Layers are the activation modules that `Activation` marks (one per hidden block) and the affine
layers (Linear/Conv) that carry weights; both numbered from the input, `layer_01` first.
"""

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ablation_lab.techniques.inits import INIT_LAYERS

HIST_SAMPLES = 4_096  # 64 bins: 64 values a bin on average; 20,000 cost 2.5x the time for the same shape


def activation_modules(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if getattr(m, "is_activation", False)]


def affine_layers(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, INIT_LAYERS)]


def layer_name(i: int) -> str:
    return f"layer_{i + 1:02d}"


def _max_derivative(module: nn.Module) -> tuple[str, float] | None:
    """How to read the derivative off the output, for the saturating activations."""
    if isinstance(module, nn.Sigmoid):
        return "sigmoid", 0.25
    if isinstance(module, nn.Tanh):
        return "tanh", 1.0
    return None


@dataclass
class ActivationStats:
    mean: float
    std: float
    dead_fraction: float  # units (features / channels) that are 0 for every input of the batch
    saturated_fraction: float | None  # |f'| < threshold·max|f'|; sigmoid and tanh only
    sample: torch.Tensor  # up to HIST_SAMPLES values, on the CPU, for histograms


def activation_stats(module: nn.Module, out: torch.Tensor, threshold: float) -> ActivationStats:
    h = out.detach().float()
    active = h.ne(0).any(0)  # per unit (and position): nonzero for some input of the batch
    active = active.flatten(1).any(1) if active.ndim > 1 else active  # conv: over positions too
    dead = 1.0 - active.float().mean().item() if h.ndim > 1 else float(not active.any())
    saturated = None
    kind = _max_derivative(module)
    if kind is not None:
        name, top = kind
        deriv = h * (1 - h) if name == "sigmoid" else 1 - h * h
        saturated = (deriv.abs() < threshold * top).float().mean().item()
    return ActivationStats(h.mean().item(), h.std().item(), dead, saturated, histogram_sample(h))


def histogram_sample(t: torch.Tensor) -> torch.Tensor:
    """At most ~HIST_SAMPLES evenly strided values of `t`, on the CPU."""
    flat = t.detach().flatten()
    return flat[:: max(1, flat.numel() // HIST_SAMPLES)].cpu()


@contextmanager
def record_activations(net: nn.Module, threshold: float = 0.05):
    """Within the block, every forward pass fills the yielded list with one stats per layer."""
    records: list[ActivationStats | None] = []
    modules = activation_modules(net)
    records.extend([None] * len(modules))

    def hook(i: int):
        def fn(module, args, out):
            records[i] = activation_stats(module, out, threshold)

        return fn

    handles = [m.register_forward_hook(hook(i)) for i, m in enumerate(modules)]
    try:
        yield records
    finally:
        for h in handles:
            h.remove()


def gradient_stats(net: nn.Module) -> list[tuple[float, torch.Tensor] | None]:
    """(‖∂L/∂W‖₂, histogram sample) of each affine layer's weight; None where no gradient flowed."""
    return [
        None if m.weight.grad is None else (m.weight.grad.norm().item(), histogram_sample(m.weight.grad))
        for m in affine_layers(net)
    ]


def update_ratios(before: list[torch.Tensor], net: nn.Module) -> list[float]:
    """‖ΔW‖ / ‖W‖ per affine layer: how far one optimizer step moved each weight."""
    return [
        ((m.weight.detach() - w).norm() / w.norm().clamp_min(1e-12)).item()
        for m, w in zip(affine_layers(net), before, strict=True)
    ]
