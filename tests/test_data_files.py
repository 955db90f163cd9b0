"""Dataset files are read, not assumed: the preflight measures the real sizes, and a damaged file is
refused in one line that names it and what was expected (data/formats.py, data/checks.py)."""

import pytest
import torchvision.datasets as tvd

from ablation_lab.data.datamodule import TensorDataModule
from ablation_lab.errors import ConfigError
from ablation_lab.utils.cli import CONF_DIR, quote_paths
from ablation_lab.utils.preflight import preflight

import bad_files
from fake_datasets import write_cifar10, write_mnist, write_svhn

TRAIN = "ablation_lab.build:check_config"


def refused(tmp_path, *args: str) -> str:
    with pytest.raises(ConfigError) as err:
        preflight(CONF_DIR, "train", quote_paths([*args, f"paths.log_dir={tmp_path}/logs"]), TRAIN)
    line = str(err.value)
    assert "\n" not in line and not (tmp_path / "logs").exists()
    return line


@pytest.fixture
def mnist(tmp_path):
    write_mnist(tmp_path / "data", n_train=200, n_test=50)
    return tmp_path / "data"


def test_the_preflight_reads_mnist_sizes_from_the_headers(tmp_path, mnist):
    line = refused(tmp_path, "data=mnist", f"data.root={mnist}", "data.train_size=20000")
    assert "data.train_size=20000 but mnist under data.root=" in line
    assert "has 180 training images after validation (of 200); choose at most 180" in line
    jobs = preflight(
        CONF_DIR, "train", quote_paths(["data=mnist", f"data.root={mnist}", "data.train_size=180"]), TRAIN
    )
    assert len(jobs) == 1


def test_a_root_without_the_dataset_is_refused_before_any_run(tmp_path):
    (tmp_path / "empty").mkdir()
    line = refused(tmp_path, "data=fashion_mnist", f"data.root={tmp_path / 'empty'}")
    assert line.startswith("no FashionMNIST files under data.root=") and "data.download=true" in line


@pytest.mark.parametrize(
    ("file", "how", "says"),
    [
        ("train-images-idx3-ubyte", "empty", "is corrupt: it has 0 bytes, fewer than an idx header"),
        (
            "train-images-idx3-ubyte",
            "truncated",
            "its header announces 200×28×28 images (156816 bytes) but it has",
        ),
        (
            "t10k-images-idx3-ubyte",
            "magic",
            "it starts with 0x000004d2, an idx file of images with 0x00000803",
        ),
        (
            "train-labels-idx1-ubyte",
            "html",
            "it starts with 0x3c68746d, an idx file of labels with 0x00000801",
        ),
        ("train-labels-idx1-ubyte", "short_labels", "it holds 150 labels for the 200 images of train-images"),
    ],
)
def test_a_damaged_mnist_file_is_named_as_corrupt(tmp_path, mnist, file, how, says):
    path = bad_files.mnist_file(mnist, file, how)
    line = refused(tmp_path, "data=mnist", f"data.root={mnist}")
    assert line.startswith(f"MNIST file {path} is corrupt: ") and says in line
    assert "delete it and pass data.download=true" in line


def test_a_missing_mnist_file_is_named(tmp_path, mnist):
    (mnist / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    assert "t10k-labels-idx1-ubyte is missing (of 4)" in refused(tmp_path, "data=mnist", f"data.root={mnist}")


def test_a_damaged_cifar_or_svhn_file_is_named_by_its_md5(tmp_path, monkeypatch):
    for attr, value in write_cifar10(tmp_path / "c").items():
        monkeypatch.setattr(tvd.CIFAR10, attr, value)
    bad = bad_files.garbage_file(tmp_path / "c" / "cifar-10-batches-py" / "data_batch_2")
    line = refused(tmp_path, "data=cifar10", f"data.root={tmp_path / 'c'}")
    assert (
        line.startswith(f"CIFAR10 file {bad} is corrupt: its MD5 is ") and "the published file's is" in line
    )
    for attr, value in write_svhn(tmp_path / "s").items():
        monkeypatch.setattr(tvd.SVHN, attr, value)
    (tmp_path / "s" / "test_32x32.mat").unlink()
    assert "SVHN file" in refused(tmp_path, "data=svhn", f"data.root={tmp_path / 's'}")


def test_cifar_sizes_are_measured_and_checked_once_per_sweep(tmp_path, monkeypatch):
    import ablation_lab.data.checks as checks

    for attr, value in write_cifar10(tmp_path / "c", per_batch=12).items():
        monkeypatch.setattr(tvd.CIFAR10, attr, value)
    calls = []
    monkeypatch.setattr(checks, "check_md5", lambda *a: calls.append(a))
    args = ["data=cifar10", f"data.root={tmp_path / 'c'}", "model=mlp", "seed=0,1,2"]
    line = refused(tmp_path, *args, "data.train_size=55")
    assert "has 54 training images after validation (of 60)" in line and len(calls) == 1
    calls.clear()
    jobs = preflight(CONF_DIR, "train", quote_paths([*args, "data.train_size=54"]), TRAIN)
    assert len(jobs.overrides) == 3 and len(jobs) == 1  # 3 jobs, one distinct config to check
    assert len(calls) == 0  # the files did not change: measured once (above)


def test_the_datamodule_refuses_a_train_size_larger_than_the_data(tmp_path):
    write_mnist(tmp_path, n_train=100, n_test=20)
    dm = TensorDataModule("mnist", root=str(tmp_path), val_fraction=0.1, train_size=500)
    with pytest.raises(ConfigError, match="data.train_size=500 but mnist has 90 training images"):
        dm.setup()


def test_labels_beyond_num_classes_and_a_wrong_in_shape_are_refused(tmp_path, mnist):
    assert "pass data.num_classes=10" in refused(
        tmp_path, "data=mnist", f"data.root={mnist}", "data.num_classes=5"
    )
    line = refused(tmp_path, "data=mnist", f"data.root={mnist}", "data.in_shape=[1,32,32]")
    assert (
        "data.in_shape=[1, 32, 32] but the images of mnist" in line and "pass data.in_shape=[1,28,28]" in line
    )


def test_the_datamodule_names_a_short_label_file_too(tmp_path, mnist):
    bad_files.mnist_file(mnist, "train-labels-idx1-ubyte", "short_labels")
    dm = TensorDataModule("mnist", root=str(mnist))
    with pytest.raises(ConfigError, match="holds 150 labels for the 200 images"):
        dm.setup()  # from Python, without the CLI's preflight: not 150 images silently
