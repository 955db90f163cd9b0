"""Every option of every config group composes and fits one batch (train, val, test) on CPU."""

from pathlib import Path

import pytest
import torchvision.datasets as tvd
from conftest import SMALL_MODELS
from smoke_checks import fit

from ablation_lab.train import train

from fake_datasets import write_cifar10, write_cifar100, write_mnist, write_svhn

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ["model", "optim"]  # activation, init: test_smoke_models.py; regularization: below
CASES = [f"{g}={p.stem}" for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
CASES += [f"data.preprocess={p}" for p in ("none", "scale01", "standardize")]  # the rest: below
CASES += [f"data.augment={a}" for a in ("none", "hflip", "crop", "flip_crop", "[hflip,crop]")]
CASES += ["regularization=[dropout,weight_decay,batchnorm]", "debug=fdr", "debug=limit", "debug=overfit"]


@pytest.mark.parametrize("override", CASES)
def test_option_fits_one_batch(make_cfg, tmp_path, monkeypatch, override):
    fit(make_cfg(override), monkeypatch, scored=override != "debug=fdr")
    if override != "debug=fdr":
        assert (tmp_path / "metrics.json").is_file()


@pytest.mark.parametrize("model", ["mlp", "cnn", "resnet"])
@pytest.mark.parametrize("data", ["mnist", "fashion_mnist", "cifar10", "cifar100", "svhn"])
def test_torchvision_datasets_fit_one_batch_with_each_model(make_cfg, tmp_path, monkeypatch, data, model):
    root = tmp_path / "data"
    writers = {
        "cifar10": (write_cifar10, tvd.CIFAR10),
        "cifar100": (write_cifar100, tvd.CIFAR100),
        "svhn": (write_svhn, tvd.SVHN),
    }
    if data in writers:
        write, cls = writers[data]
        for attr, value in write(root).items():
            monkeypatch.setattr(cls, attr, value)
    else:
        write_mnist(root, {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}[data])
    extra = ["model.depth=8", "model.width=8"] if model == "resnet" else []
    cfg = make_cfg(
        f"data={data}", f"model={model}", "data.augment=flip_crop", "regularization=cutout", *extra
    )
    fit(cfg, monkeypatch)


REGULARIZERS = [p.stem for p in sorted((CONF / "regularization").glob("*.yaml")) if p.stem != "none"]
MODELS = SMALL_MODELS
REFUSED = {
    **{("stochastic_depth", m): "needs residual blocks" for m in ("mlp", "cnn", "plain_deep")},
    **{("fractional_max_pool", m): "needs pooling layers" for m in ("mlp", "resnet", "plain_deep")},
}


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("reg", REGULARIZERS)
def test_regularizer_with_model_fits_one_batch_or_is_refused(make_cfg, monkeypatch, reg, model):
    from ablation_lab.errors import ConfigError

    cfg = make_cfg(f"regularization={reg}", *MODELS[model])
    if (reg, model) in REFUSED:
        with pytest.raises(ConfigError, match=REFUSED[reg, model]):
            train(cfg)
    else:
        fit(cfg, monkeypatch)


@pytest.mark.parametrize(
    "override",
    [
        f"data.preprocess={p}"
        for p in ("max_norm", "min_max", "mean_image", "channel_mean", "pca_whiten", "zca_whiten")
    ]
    + [f"data.augment=[{a}]" for a in ("vflip", "resized_crop", "color_jitter", "affine", "cutout")]
    + ["data.tta=hflip", "data.tta=flip_crop", "data.train_fraction=0.1", "data.train_size=64"]
    + ["regularization=[mixup,cutout,label_smoothing]", "regularization=[fractional_max_pool,dropout]"],
)
def test_data_option_fits_one_batch_with_the_cnn(make_cfg, monkeypatch, override):
    fit(make_cfg(override, *MODELS["cnn"]), monkeypatch)


DC = "regularization.dropconnect"
KNOB_VALUES = {  # knob values that are not an option's default, with the models they apply to
    "dropconnect gaussian": (
        ["regularization=dropconnect", f"{DC}.inference=gaussian", f"{DC}.samples=8"],
        MODELS,
    ),
    "dropconnect last": (
        ["regularization=dropconnect", f"{DC}.layers=last", f"{DC}.per_example=false"],
        MODELS,
    ),
    "stochastic_depth batch": (
        ["regularization=stochastic_depth", "regularization.stochastic_depth.mode=batch"],
        ["resnet"],
    ),
    "kaiming fan_out": (["activation=swish", "init=kaiming_uniform", "init.mode=fan_out"], MODELS),
}


@pytest.mark.parametrize(
    ("knobs", "model"), [(k, m) for k, (_, models) in KNOB_VALUES.items() for m in models], ids=str
)
def test_knob_value_fits_one_batch_with_each_model(make_cfg, monkeypatch, knobs, model):
    fit(make_cfg(*KNOB_VALUES[knobs][0], *MODELS[model]), monkeypatch)
