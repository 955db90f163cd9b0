"""Every option of every config group composes and fits one batch (train, val, test) on CPU."""

from pathlib import Path

import pytest
import torchvision.datasets as tvd

from ablation_lab.train import train

from fake_datasets import write_cifar10, write_mnist

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ["regularization", "model", "optim"]  # activation, init: test_smoke_models.py
CASES = [f"{g}={p.stem}" for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
CASES += [f"data.preprocess={p}" for p in ("none", "scale01", "standardize")]
CASES += [f"data.augment={a}" for a in ("none", "hflip", "crop", "flip_crop", "[hflip,crop]")]
CASES += ["regularization=[dropout,weight_decay,batchnorm]", "debug=fdr", "debug=limit"]


@pytest.mark.parametrize("override", CASES)
def test_option_fits_one_batch(make_cfg, tmp_path, override):
    metrics = train(make_cfg(override))
    assert 0.0 <= metrics["test/acc"] <= 1.0 or "debug=fdr" == override
    if override != "debug=fdr":
        assert (tmp_path / "metrics.json").is_file()


@pytest.mark.parametrize("model", ["mlp", "cnn", "resnet"])
@pytest.mark.parametrize("data", ["mnist", "fashion_mnist", "cifar10"])
def test_torchvision_datasets_fit_one_batch_with_each_model(make_cfg, tmp_path, monkeypatch, data, model):
    root = tmp_path / "data"
    if data == "cifar10":
        for attr, value in write_cifar10(root).items():
            monkeypatch.setattr(tvd.CIFAR10, attr, value)
    else:
        write_mnist(root, {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}[data])
    extra = ["model.depth=8", "model.width=8"] if model == "resnet" else []
    metrics = train(make_cfg(f"data={data}", f"model={model}", "data.augment=flip_crop", *extra))
    assert 0.0 <= metrics["test/acc"] <= 1.0
