"""What a run's training step does with the loss- and batch-side regularizers: the module is built
the way a run builds it (build_module of the composed config), and the test reads what its net is
fed and what its loss is computed against, so removing the technique from the module fails here."""

import pytest
import torch
import torch.nn.functional as F

from ablation_lab.build import build_datamodule, build_module


def run_module(make_cfg, *overrides: str):
    """The ClassifierModule of a run with `overrides`, and 64 training images and labels."""
    cfg = make_cfg(*overrides)
    torch.manual_seed(0)  # the same initial weights whatever ran before
    dm = build_datamodule(cfg)
    return build_module(cfg, dm), dm.train.x[:64], dm.train.y[:64]


def first_step(module, x: torch.Tensor, y: torch.Tensor, monkeypatch) -> dict:
    """One training step up to its loss: the net's input, the logits, the target and the loss."""
    seen: dict = {}
    hook = module.net.register_forward_pre_hook(lambda m, args: seen.update(input=args[0].detach()))
    loss_of = module.loss

    def loss(logits, target):
        seen.update(logits=logits.detach(), target=target, loss=loss_of(logits, target).detach())
        raise StopIteration  # the rest of the step logs through a Trainer this test does not need

    monkeypatch.setattr(module, "loss", loss)
    with pytest.raises(StopIteration):
        module.training_step((x, y), 0)
    hook.remove()
    monkeypatch.undo()
    return seen


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return -(target * logits.log_softmax(-1)).sum(-1).mean()


def test_label_smoothing_target_vector():
    """ε=0.04 over 4 classes, true class 2 → [0.01, 0.01, 0.97, 0.01] (the formula the loss uses)."""
    logits = torch.randn(1, 4)
    smoothed = F.cross_entropy(logits, torch.tensor([2]), label_smoothing=0.04)
    torch.testing.assert_close(smoothed, soft_cross_entropy(logits, torch.tensor([[0.01, 0.01, 0.97, 0.01]])))


def test_a_run_with_label_smoothing_trains_on_the_smoothed_targets(make_cfg, monkeypatch):
    """regularization=label_smoothing (ε=0.1, 10 classes): target 0.91 on the true class, 0.01 elsewhere."""
    module, x, y = run_module(make_cfg, "regularization=label_smoothing")
    step = first_step(module, x, y, monkeypatch)
    smoothed = torch.full((len(y), 10), 0.01).scatter(1, y.view(-1, 1), 0.91)
    torch.testing.assert_close(step["loss"], soft_cross_entropy(step["logits"], smoothed))
    assert abs(step["loss"] - F.cross_entropy(step["logits"], y)).item() > 0.01  # not the plain loss (0.024)


def test_a_run_with_mixup_feeds_the_net_mixed_pairs_and_trains_on_mixed_targets(make_cfg, monkeypatch):
    """x' = λx_i + (1−λ)x_j and y' = λy_i + (1−λ)y_j, with j = i−1 (torchvision's MixUp rolls the batch)."""
    module, x, y = run_module(make_cfg, "regularization=mixup", "regularization.mixup.alpha=1.0")
    clean = module.preprocess(x.float())  # the default data config augments nothing
    partner, onehot = clean.roll(1, 0), F.one_hot(y, 10).float()
    lams = []
    for seed in range(6):
        torch.manual_seed(seed)
        step = first_step(module, x, y, monkeypatch)
        # λ from the net's input, by least squares on x' − x_j = λ(x_i − x_j)
        lam = ((step["input"] - partner) * (clean - partner)).sum() / ((clean - partner) ** 2).sum()
        torch.testing.assert_close(step["input"], lam * clean + (1 - lam) * partner, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(step["target"], lam * onehot + (1 - lam) * onehot.roll(1, 0))
        torch.testing.assert_close(step["loss"], soft_cross_entropy(step["logits"], step["target"]))
        lams.append(lam.item())
    assert sum(0.05 < lam < 0.95 for lam in lams) >= 3, lams  # λ ~ U(0, 1) at α = 1: mixed, not λ = 1


def test_the_runs_mixup_draws_lambda_from_beta_alpha_alpha(make_cfg):
    """λ ~ Beta(α, α) with the α of the config: mean 1/2, variance 1/(4(2α+1))."""
    module, _, _ = run_module(make_cfg, "regularization=mixup", "regularization.mixup.alpha=0.4")
    torch.manual_seed(0)
    x, y = torch.zeros(2, 1, 2, 2), torch.tensor([0, 1])
    x[0] = 1.0
    lams = []
    for _ in range(3000):
        xm, ym = module.mixup(x, y)
        torch.testing.assert_close(ym.sum(-1), torch.ones(2))
        lams.append(xm[0, 0, 0, 0].item())  # image 0 is λ·1 + (1−λ)·0 (its partner is image 1)
    lams = torch.tensor(lams)
    assert lams.mean().item() == pytest.approx(0.5, abs=0.02)
    assert lams.var().item() == pytest.approx(1 / (4 * (2 * 0.4 + 1)), rel=0.08)
