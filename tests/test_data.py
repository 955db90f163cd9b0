"""Datasets load into fixed, disjoint splits; torchvision loaders read their own file formats."""

import pytest
import torch
import torchvision.datasets as tvd

from ablation_lab.data.datamodule import TensorDataModule
from ablation_lab.data.loader import BatchLoader
from ablation_lab.data.sources import check_root, load_source
from ablation_lab.errors import ConfigError

from fake_datasets import write_cifar10, write_cifar100, write_mnist, write_svhn


def test_digits_are_embedded_uint8_images_in_0_255():
    train, test = load_source("digits", "unused", False)
    assert test is None and train.x.shape == (1797, 1, 8, 8) and train.x.dtype == torch.uint8
    assert train.x.max().item() == 255 and sorted(train.y.unique().tolist()) == list(range(10))


def test_digits_are_scikit_learns_digits_read_without_importing_it():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    train, _ = load_source("digits", root="unused", download=False)
    bunch = load_digits()
    expected = torch.from_numpy(bunch.images * (255.0 / 16.0)).round().to(torch.uint8)
    assert torch.equal(train.x[:, 0], expected) and torch.equal(train.y, torch.from_numpy(bunch.target))
    code = (
        "import sys; from ablation_lab.data.sources import load_source; "
        "load_source('digits', root='unused', download=False); print('sklearn' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"  # ~0.35 s less before a run's first step


def test_digits_splits_are_disjoint_fixed_and_cover_everything():
    dm = TensorDataModule("digits", val_fraction=0.15, test_fraction=0.2)
    dm.setup()
    sizes = [len(s.y) for s in (dm.train, dm.val, dm.test)]
    assert sum(sizes) == 1797 and sizes[1] == round(0.15 * 1797) and sizes[2] == round(0.2 * 1797)
    rows = torch.cat([s.x.flatten(1) for s in (dm.train, dm.val, dm.test)])
    assert len(torch.unique(rows, dim=0)) == len(
        torch.unique(load_source("digits", "", False)[0].x.flatten(1), dim=0)
    )
    again = TensorDataModule("digits")
    again.setup()
    assert torch.equal(again.test.x, dm.test.x)


def test_batch_loader_serves_every_sample_once_per_epoch_in_a_new_order():
    x, y = torch.arange(10).view(10, 1), torch.arange(10)
    loader = BatchLoader(x, y, batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3
    first = torch.cat([b[1] for b in loader])
    second = torch.cat([b[1] for b in loader])
    assert sorted(first.tolist()) == list(range(10)) and not torch.equal(first, second)
    assert [len(b[1]) for b in BatchLoader(x, y, 4, drop_last=True)] == [4, 4]


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_formats_load_through_torchvision(tmp_path, name, folder):
    write_mnist(tmp_path, folder, n_train=60, n_test=20)
    dm = TensorDataModule(name, root=str(tmp_path), val_fraction=0.1)
    dm.setup()
    assert dm.train.x.shape == (54, 1, 28, 28) and len(dm.val.y) == 6 and len(dm.test.y) == 20
    raw = (tmp_path / folder / "raw" / "t10k-images-idx3-ubyte").read_bytes()[16:]
    assert dm.test.x.flatten().tolist()[:50] == list(raw[:50])


def test_cifar10_format_loads_through_torchvision(tmp_path, monkeypatch):
    for attr, value in write_cifar10(tmp_path, per_batch=12).items():
        monkeypatch.setattr(tvd.CIFAR10, attr, value)
    dm = TensorDataModule("cifar10", root=str(tmp_path), val_fraction=0.1)
    dm.setup()
    assert dm.train.x.shape == (54, 3, 32, 32) and dm.test.x.shape == (12, 3, 32, 32)
    assert dm.test.y.tolist() == [i % 10 for i in range(12)]


def test_cifar100_format_loads_through_torchvision(tmp_path, monkeypatch):
    for attr, value in write_cifar100(tmp_path).items():
        monkeypatch.setattr(tvd.CIFAR100, attr, value)
    dm = TensorDataModule("cifar100", root=str(tmp_path), val_fraction=0.1)
    dm.setup()
    assert dm.train.x.shape == (108, 3, 32, 32) and dm.test.y.tolist() == list(range(12))


def test_svhn_format_loads_through_torchvision_with_label_10_as_0(tmp_path, monkeypatch):
    for attr, value in write_svhn(tmp_path).items():
        monkeypatch.setattr(tvd.SVHN, attr, value)
    dm = TensorDataModule("svhn", root=str(tmp_path), val_fraction=0.1)
    dm.setup()
    assert dm.train.x.shape == (27, 3, 32, 32) and dm.test.x.dtype == torch.uint8
    assert dm.test.y.tolist() == [(i + 1) % 10 for i in range(10)]


def test_missing_root_without_download_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="data.root='.*nowhere' does not exist.*data.download=true"):
        check_root("mnist", str(tmp_path / "nowhere"), False)
    with pytest.raises(ConfigError, match="no MNIST files under data.root=.*data.download=true"):
        load_source("mnist", str(tmp_path), False)


def test_train_fraction_is_a_fixed_subset_whatever_the_run_seed():
    full = TensorDataModule("digits")
    full.setup()
    small = TensorDataModule("digits", train_fraction=0.1)
    small.set_seed(7)
    small.setup()
    assert len(small.train.y) == round(0.1 * len(full.train.y))
    assert torch.equal(small.train.x, full.train.x[: len(small.train.y)])
    assert torch.equal(small.val.x, full.val.x) and torch.equal(small.test.x, full.test.x)
    sized = TensorDataModule("digits", train_size=50)
    sized.setup()
    assert len(sized.train.y) == 50
