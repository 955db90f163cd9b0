"""What every one-batch smoke fit checks besides "it ran": each evaluation batch goes through the
net as many times as the config asks (test-time views × the passes of a stochastic net), the
logits it scores are the log of the mean softmax over exactly those passes, and the losses are
finite. The expectation comes from the config, not from the module, so a run that silently
evaluates fewer passes (fractional max-pooling's 4 cut to 1) or keeps only one fails here."""

import math

import torch

import ablation_lab.train as train_module
from ablation_lab.build import build_module
from ablation_lab.train import train

TTA_VIEWS = {"none": 1, "hflip": 2, "flip_crop": 6}  # identity, flip, and four shifts


def expected_passes(cfg) -> int:
    """Net passes per evaluation batch that `cfg` asks for."""
    reg = cfg.get("regularization") or {}
    passes = int(reg.fractional_max_pool.test_passes) if "fractional_max_pool" in reg else 1
    return TTA_VIEWS[cfg.data.get("tta", "none")] * passes


def fit(cfg, monkeypatch, scored: bool = True) -> dict:
    """train(cfg), checking every validation and test batch's passes and their average;
    `scored`: the run ends with a finite test loss and an accuracy in [0, 1]."""
    evaluations: list[tuple[torch.Tensor, list[torch.Tensor]]] = []

    def build(cfg_, dm):
        module = build_module(cfg_, dm)
        outputs: list[torch.Tensor] = []
        module.net.register_forward_hook(lambda m, args, out: outputs.append(out.detach()))
        predict = module.predict

        def counted(x):
            outputs.clear()
            logits = predict(x)
            evaluations.append((logits.detach(), list(outputs)))
            return logits

        monkeypatch.setattr(module, "predict", counted)
        return module

    monkeypatch.setattr(train_module, "build_module", build)
    metrics = train(cfg)
    want = expected_passes(cfg)
    assert evaluations, "no evaluation batch ran"
    for logits, outputs in evaluations:
        assert len(outputs) == want, f"{len(outputs)} net passes per evaluation batch; the config asks {want}"
        mean = torch.stack([o.float().softmax(-1) for o in outputs]).mean(0)
        expected = outputs[0] if want == 1 else mean.clamp_min(1e-12).log()
        torch.testing.assert_close(logits.float(), expected.float())
    if scored:
        assert math.isfinite(metrics["test/loss"]) and 0.0 <= metrics["test/acc"] <= 1.0
    return metrics
