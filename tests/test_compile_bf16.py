"""Every technique fits one batch under bf16-mixed, and the ones that touch the forward pass under
compile=true (slow: inductor compiles C++ on CPU); what cannot compile is refused in one line."""

from pathlib import Path

import pytest
import torch
from conftest import SMALL_MODELS

from ablation_lab.train import train

CONF = Path(__file__).resolve().parents[1] / "conf"
CNN = SMALL_MODELS["cnn"]
NO_DIAG = "~callbacks.diagnostics"
REGULARIZERS = [p.stem for p in sorted((CONF / "regularization").glob("*.yaml")) if p.stem != "none"]
# The conv-net-only regularizers run on the CNN; the rest on the default MLP.
ON_CNN = {"fractional_max_pool", "aux_classifier", "batchnorm", "cutout"}
MODEL = {r: CNN for r in ON_CNN} | {"stochastic_depth": SMALL_MODELS["resnet"]}
BF16 = [(f"regularization={r}", *MODEL.get(r, ())) for r in REGULARIZERS]
BF16 += [(f"data.preprocess={p}",) for p in ("scale01", "standardize", "pca_whiten", "zca_whiten")]
BF16 += [(f"data.augment={a}", *CNN) for a in ("flip_crop", "color_jitter", "affine", "resized_crop")]
BF16 += [(f"data.tta={t}", *CNN) for t in ("hflip", "flip_crop")]
# What issue 17 names as mattering under compile.
COMPILED = [
    ("regularization=dropconnect", "regularization.dropconnect.per_example=true"),
    ("regularization=mixup",),
    ("regularization=cutout", *CNN),
    ("regularization=fractional_max_pool", *CNN),
    ("regularization=aux_classifier", *CNN),
    ("data.preprocess=zca_whiten",),
    ("data.tta=flip_crop", *CNN),
]


def _fits(metrics: dict) -> None:
    assert 0.0 <= metrics["test/acc"] <= 1.0
    assert torch.isfinite(torch.tensor(metrics["train/loss"]))


@pytest.mark.parametrize("overrides", BF16, ids=lambda o: " ".join(o))
def test_technique_fits_one_batch_in_bf16(make_cfg, overrides):
    _fits(train(make_cfg("trainer.precision=bf16-mixed", *overrides)))


@pytest.mark.slow
@pytest.mark.parametrize("extra", [(), CNN], ids=["default", "cnn"])
@pytest.mark.parametrize("mode", ["trainer.precision=bf16-mixed", "compile=true"])
def test_default_and_cnn_train_in_bf16_and_compiled(make_cfg, mode, extra):
    # without diagnostics: the steps they measure run the plain net (in a 1-epoch run, all of them)
    cfg = make_cfg(mode, *extra, "trainer.max_epochs=2", "++trainer.limit_train_batches=8", NO_DIAG)
    _fits(train(cfg))


@pytest.mark.slow
@pytest.mark.parametrize("overrides", COMPILED, ids=lambda o: " ".join(o))
def test_technique_fits_one_batch_compiled(make_cfg, overrides):
    _fits(train(make_cfg("compile=true", NO_DIAG, *overrides)))


def test_compile_keeps_checkpoint_keys(make_cfg):
    from ablation_lab.build import build_datamodule, build_module

    cfg = make_cfg()
    dm = build_datamodule(cfg)
    plain = build_module(cfg, dm).state_dict().keys()
    cfg.compile = True
    assert build_module(cfg, dm).state_dict().keys() == plain


def test_ray_asks_for_a_gpu_fraction_per_cell():
    from ablation_lab.utils.resolvers import gpus_per_run

    assert gpus_per_run("gpu", 1, 4) == 0.25  # four cells packed on one GPU
    assert gpus_per_run("gpu", 2, 4) == 2  # a multi-GPU run is never packed
    assert gpus_per_run("cpu", 1, 4) == 0
