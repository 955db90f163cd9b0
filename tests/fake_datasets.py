"""Tiny dataset files in each torchvision dataset's own on-disk format, for the real loaders."""

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np


def write_mnist(
    root: Path, folder: str = "MNIST", n_train: int = 60, n_test: int = 20, seed: int = 0
) -> None:
    """idx3/idx1 files as torchvision's MNIST / FashionMNIST expect them under <root>/<folder>/raw."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar100(root: Path, n_train: int = 120, n_test: int = 12, seed: int = 0) -> dict:
    """cifar-100-python pickles (fine and coarse labels); returns the (file, md5) attributes to patch."""
    rng = np.random.default_rng(seed)
    base = root / "cifar-100-python"
    base.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test)):
        entry = {
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "fine_labels": [int(i % 100) for i in range(n)],
            "coarse_labels": [int(i % 20) for i in range(n)],
        }
        (base / name).write_bytes(pickle.dumps(entry))
    (base / "meta").write_bytes(pickle.dumps({"fine_label_names": [f"c{i}" for i in range(100)]}))
    return {
        "train_list": [["train", _md5(base / "train")]],
        "test_list": [["test", _md5(base / "test")]],
        "meta": {"filename": "meta", "key": "fine_label_names", "md5": _md5(base / "meta")},
    }


def write_svhn(root: Path, n_train: int = 30, n_test: int = 10, seed: int = 0) -> dict:
    """train_32x32.mat / test_32x32.mat as SVHN ships them (X: 32×32×3×N, y: N×1 with 10 for 0);
    returns the split_list attribute (file, md5) to patch."""
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    split_list = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = (np.arange(n) % 10 + 1).astype(np.uint8).reshape(n, 1)  # 1..10, 10 meaning digit 0
        savemat(root / f"{split}_32x32.mat", {"X": x, "y": y})
        split_list[split] = ["", f"{split}_32x32.mat", _md5(root / f"{split}_32x32.mat")]
    return {"split_list": split_list}


def write_cifar10(root: Path, per_batch: int = 12, seed: int = 0) -> dict:
    """cifar-10-batches-py pickles; returns the class attributes (file, md5) to patch in."""
    rng = np.random.default_rng(seed)
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "labels": [int(i % 10) for i in range(per_batch)],
        }
        (base / name).write_bytes(pickle.dumps(entry))
    (base / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))
    return {
        "train_list": [[n, _md5(base / n)] for n in names[:5]],
        "test_list": [["test_batch", _md5(base / "test_batch")]],
        "meta": {"filename": "batches.meta", "key": "label_names", "md5": _md5(base / "batches.meta")},
    }


def write_image_folder(
    root: Path, classes=("cat", "dog"), per_class: int = 10, split: str | None = None, seed: int = 0
) -> Path:
    """PNG and JPEG files of varied sizes, one folder per class (under root/<split>/ if given);
    class i is brighter than class i-1, so a model can tell them apart."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = root / split if split else root
    for c, name in enumerate(classes):
        (base / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.normal(60 + 120 * c / max(1, len(classes) - 1), 20, (10 + i % 5, 12, 3))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            image.save(base / name / f"{i:03d}.{'png' if i % 2 else 'jpg'}")
    return root


def write_npz(
    path: Path, n: int = 60, hw=(8, 8), channels: int | None = None, classes: int = 3, n_test: int = 0, seed=0
) -> Path:
    """`images` (uint8, N×H×W or N×H×W×C) and `labels` (0..classes-1), plus test_* when n_test."""
    rng = np.random.default_rng(seed)
    shape = (*hw, channels) if channels else tuple(hw)
    arrays = {}
    for prefix, count in (("", n), ("test_", n_test)):
        if count:
            arrays[f"{prefix}images"] = rng.integers(0, 256, (count, *shape), dtype=np.uint8)
            arrays[f"{prefix}labels"] = np.arange(count) % classes
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path
