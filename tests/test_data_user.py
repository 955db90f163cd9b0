"""A user's own data: class folders of PNG/JPEG (data=image_folder, decoded once into a cache) and
.npz arrays (data=npz), with the same preflight, splits and preprocessing as the built-in sets."""

import json

import numpy as np
import pytest
import torch

import ablation_lab.data.image_folder as image_folder
from ablation_lab.data.datamodule import TensorDataModule, fingerprint
from ablation_lab.data.sources import load_source
from ablation_lab.errors import ConfigError
from ablation_lab.train import train
from ablation_lab.utils.cli import CONF_DIR, quote_paths
from ablation_lab.utils.preflight import preflight

import bad_files
from fake_datasets import write_image_folder, write_npz

TRAIN = "ablation_lab.build:check_config"


def refused(tmp_path, *args: str) -> str:
    with pytest.raises(ConfigError) as err:
        preflight(CONF_DIR, "train", quote_paths([*args, f"paths.log_dir={tmp_path}/logs"]), TRAIN)
    assert "\n" not in str(err.value) and not (tmp_path / "logs").exists()
    return str(err.value)


def test_image_folder_resizes_once_to_the_declared_shape_with_classes_by_folder_name(tmp_path):
    root = write_image_folder(tmp_path / "pets", classes=("dog", "cat", "fox"), per_class=6)
    cache = tmp_path / "cache"
    train, test = load_source("image_folder", str(root), False, in_shape=[1, 7, 9], cache_dir=str(cache))
    assert test is None and train.x.shape == (18, 1, 7, 9) and train.x.dtype == torch.uint8
    assert train.y.tolist() == [0] * 6 + [1] * 6 + [2] * 6  # cat, dog, fox: sorted as ImageFolder does
    means = [train.x[train.y == k].float().mean().item() for k in range(3)]
    assert means[1] < means[0] < means[2]  # dog (class 1 written) is darker than cat, fox brightest
    rgb, _ = load_source("image_folder", str(root), False, in_shape=[3, 16, 16], cache_dir=str(cache))
    assert rgb.x.shape == (18, 3, 16, 16) and len(list((cache / "image_folder").glob("*.npz"))) == 2


def test_the_cache_is_written_once_atomically_and_rebuilt_when_an_image_changes(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "pets", per_class=5)
    first = image_folder.ensure_cache(str(root), [3, 8, 8], str(tmp_path / "cache"))
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name]  # no temporary file left
    stamp = first.stat().st_mtime_ns

    def no_decoding(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(image_folder, "_decode", no_decoding)
    assert image_folder.ensure_cache(str(root), [3, 8, 8], str(tmp_path / "cache")) == first
    assert first.stat().st_mtime_ns == stamp
    write_image_folder(tmp_path / "pets", per_class=5, seed=1)  # same names, new pixels
    with pytest.raises(AssertionError, match="decoded again"):
        image_folder.ensure_cache(str(root), [3, 8, 8], str(tmp_path / "cache"))


def test_image_folder_with_train_and_test_folders_keeps_the_official_test_split(tmp_path):
    write_image_folder(tmp_path / "pets", classes=("a", "b", "c"), per_class=8, split="train")
    write_image_folder(tmp_path / "pets", classes=("a", "c"), per_class=3, split="test")
    dm = TensorDataModule(
        "image_folder", root=str(tmp_path / "pets"), in_shape=[3, 8, 8], cache_dir=str(tmp_path)
    )
    dm.setup()
    assert len(dm.test.y) == 6 and dm.test.y.tolist() == [0, 0, 0, 2, 2, 2]
    assert len(dm.train.y) + len(dm.val.y) == 24


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_npz_images_are_read_as_n_c_h_w_uint8(tmp_path, channels):
    path = write_npz(tmp_path / "a.npz", n=12, hw=(5, 7), channels=channels, classes=4, n_test=4)
    train, test = load_source("npz", "unused", False, path=str(path))
    raw = np.load(path)
    assert train.x.shape == (12, channels or 1, 5, 7) and test.x.shape == (4, channels or 1, 5, 7)
    expected = raw["images"][:, None] if channels is None else raw["images"].transpose(0, 3, 1, 2)
    assert np.array_equal(train.x.numpy(), expected) and train.y.dtype == torch.int64


def test_the_fingerprint_is_the_data_not_the_format(tmp_path):
    root = write_image_folder(tmp_path / "pets", per_class=4)
    folder = TensorDataModule("image_folder", root=str(root), in_shape=[1, 6, 6], cache_dir=str(tmp_path))
    folder.setup()
    split = load_source("image_folder", str(root), False, in_shape=[1, 6, 6], cache_dir=str(tmp_path))[0]
    x, y = split.x, split.y
    np.savez(tmp_path / "same.npz", images=x.numpy()[:, 0], labels=y.numpy())
    arrays = TensorDataModule("npz", path=str(tmp_path / "same.npz"))
    arrays.setup()
    assert folder.fingerprint == arrays.fingerprint and folder.fingerprint.startswith("sha256:")
    changed = x.clone()
    changed[0, 0, 0, 0] ^= 1
    assert fingerprint(type(folder.train)(changed, y), None) != folder.fingerprint


def test_num_classes_and_in_shape_are_read_from_the_data(make_cfg, tmp_path):
    root = write_image_folder(tmp_path / "pets", classes=("a", "b", "c", "d"), per_class=2)
    assert make_cfg("data=image_folder", f"data.root={root}").data.num_classes == 4
    path = write_npz(tmp_path / "a.npz", hw=(6, 5), channels=3, classes=7)
    cfg = make_cfg("data=npz", f"data.path={path}")
    assert list(cfg.data.in_shape) == [3, 6, 5] and cfg.data.num_classes == 7


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_image_folder_and_npz_fit_one_batch_and_record_their_fingerprint(make_cfg, tmp_path, model):
    root = write_image_folder(tmp_path / "pets", classes=("a", "b", "c"), per_class=8)
    path = write_npz(tmp_path / "a.npz", n=80, hw=(12, 12), channels=3, classes=3)
    extra = ["model=cnn", "model.channels=[8,16]"] if model == "cnn" else ["model.width=16"]
    for data in (
        ["data=image_folder", f"data.root={root}", "data.in_shape=[3,12,12]"],
        ["data=npz", f"data.path={path}"],
    ):
        metrics = train(make_cfg(*data, *extra))
        assert 0.0 <= metrics["test/acc"] <= 1.0
        record = json.loads((tmp_path / "metrics.json").read_text())
        assert record["data_fingerprint"].startswith("sha256:") and record["choices"]["data"] == data[0][5:]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: d.mkdir() or d, "holds no class folders of PNG/JPEG images; expected"),
        (
            lambda d: write_image_folder(d, classes=("cat",)),
            "holds one class folder ('cat'); a classifier needs",
        ),
        (
            lambda d: (write_image_folder(d), (d / "emu").mkdir()) and d,
            "class folder {d}/emu holds no PNG/JPEG",
        ),
        (lambda d: d.parent / "nowhere", "data.root='{d.parent}/nowhere' is not a folder"),
    ],
)
def test_an_image_folder_a_classifier_cannot_use_is_refused(tmp_path, make, says):
    root = make(tmp_path / "pets")
    line = refused(tmp_path, "data=image_folder", f"data.root={root}")
    assert says.format(d=tmp_path / "pets") in line


def test_an_unreadable_image_is_named(tmp_path):
    root = write_image_folder(tmp_path / "pets")
    bad_files.garbage_file(root / "dog" / "004.png")
    line = refused(tmp_path, "data=image_folder", f"data.root={root}", f"paths.data_dir={tmp_path}/d")
    assert f"{root}/dog/004.png is not a readable PNG/JPEG image" in line
    assert not list((tmp_path / "d").rglob("*.npz"))


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (bad_files.npz_with_objects, "array 'images' holds Python objects"),
        (bad_files.npz_float_images, "array 'images' is float64; it must be uint8 (0..255)"),
        (bad_files.npz_short_labels, "array 'labels' holds 150 labels for the 200 images of 'images'"),
        (
            lambda p: np.savez(p, pictures=np.zeros((4, 4, 4), np.uint8)) or p,
            "has no array 'images' (it holds: pictures)",
        ),
        (bad_files.garbage_file, "is not a readable .npz archive"),
        (
            lambda p: np.save(p, np.zeros(3)) or p.with_suffix(".npz.npy"),
            "holds one array, not a .npz archive",
        ),
    ],
)
def test_an_npz_of_the_wrong_kind_is_refused(tmp_path, make, says):
    path = make(tmp_path / "a.npz")
    assert says in refused(tmp_path, "data=npz", f"data.path={path}")


def test_npz_labels_beyond_num_classes_and_too_large_train_size_are_refused(tmp_path):
    path = write_npz(tmp_path / "a.npz", n=40, classes=5)
    assert "go up to 4 but data.num_classes=3; pass data.num_classes=5" in refused(
        tmp_path, "data=npz", f"data.path={path}", "data.num_classes=3"
    )
    line = refused(tmp_path, "data=npz", f"data.path={path}", "data.train_size=30")
    assert (
        f"data.train_size=30 but data.path='{path}' has 26 training images after validation and test" in line
    )


def test_an_image_folder_with_other_classes_or_channels_than_declared_is_refused(tmp_path):
    root = write_image_folder(tmp_path / "pets", classes=("cat", "dog", "fox"), per_class=4)
    line = refused(tmp_path, "data=image_folder", f"data.root={root}", "data.num_classes=5")
    assert f"data.num_classes=5 but data.root='{root}' has 3 class folders (cat, dog, fox)" in line
    line = refused(tmp_path, "data=image_folder", f"data.root={root}", "data.in_shape=[4,8,8]")
    assert "decodes images to 1 (grey) or 3 (RGB) channels" in line
