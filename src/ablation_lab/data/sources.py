"""Dataset sources: each returns raw uint8 images (N, C, H, W) and int64 labels for its splits.

Torchvision datasets are read through torchvision's own classes (so `root` and `download` behave
as users know them), then their `.data` arrays are taken whole instead of decoding per sample.
A user's data comes as a folder of class folders (image_folder.py) or one .npz file (npz.py).
"""

import importlib.util
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ablation_lab.data import image_folder, npz
from ablation_lab.data.formats import mnist_info
from ablation_lab.errors import ConfigError, check_choice


@dataclass(frozen=True)
class Split:
    """Raw images (uint8, N×C×H×W) and labels (int64, N)."""

    x: torch.Tensor
    y: torch.Tensor


def _digits(root: str, download: bool, **_) -> tuple[Split, Split | None]:
    """scikit-learn's 1797 8×8 digits (0..16 grey levels), scaled to 0..255; no official test split."""
    images, target = _sklearn_digits()
    x = np.rint(images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return Split(torch.from_numpy(x), torch.from_numpy(target).long()), None


def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """(1797×8×8 images, labels) read from the file scikit-learn ships, as `load_digits` reads it,
    without importing scikit-learn (~0.35 s before a run's first step); `load_digits` itself if
    the file is not where this scikit-learn keeps it."""
    spec = importlib.util.find_spec("sklearn")  # locates the package, runs none of it
    path = Path(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz") if spec else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.images, bunch.target
    data = np.loadtxt(path, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


def _open(cls, name: str, root: str, download: bool, **kwargs):
    try:
        return cls(root=root, download=download, **kwargs)
    except (RuntimeError, OSError) as err:
        if download:
            reason = " ".join(str(err).split())
            raise ConfigError(f"could not download {name} into data.root='{root}': {reason}") from err
        raise ConfigError(
            f"no {name} files under data.root='{root}'; pass data.download=true "
            f"or point data.root at a folder that holds them"
        ) from err


def _mnist_like(cls_name: str) -> Callable[..., tuple[Split, Split]]:
    def load(root: str, download: bool, **_) -> tuple[Split, Split]:
        import torchvision.datasets as tvd

        if not download:  # headers first: torchvision would keep the first 150 of 200 images
            mnist_info(cls_name, root)
        cls = getattr(tvd, cls_name)
        splits = [_open(cls, cls_name, root, download, train=train) for train in (True, False)]
        return tuple(Split(d.data[:, None].contiguous(), d.targets.long()) for d in splits)

    return load


def _cifar(cls_name: str) -> Callable[..., tuple[Split, Split]]:
    def load(root: str, download: bool, **_) -> tuple[Split, Split]:
        import torchvision.datasets as tvd

        cls = getattr(tvd, cls_name)
        splits = [_open(cls, cls_name, root, download, train=train) for train in (True, False)]
        return tuple(
            Split(
                torch.from_numpy(d.data).permute(0, 3, 1, 2).contiguous(),
                torch.as_tensor(d.targets, dtype=torch.long),
            )
            for d in splits
        )

    return load


def _svhn(root: str, download: bool, **_) -> tuple[Split, Split]:
    """SVHN's cropped digits (train_32x32.mat / test_32x32.mat); label 10 stands for digit 0."""
    import torchvision.datasets as tvd

    splits = [_open(tvd.SVHN, "SVHN", root, download, split=split) for split in ("train", "test")]
    return tuple(
        Split(torch.from_numpy(d.data).contiguous(), torch.from_numpy(d.labels).long()) for d in splits
    )


def _from_arrays(arrays: dict) -> tuple[Split, Split | None]:
    splits = {k: Split(torch.from_numpy(x), torch.from_numpy(y)) for k, (x, y) in arrays.items()}
    return splits["train"], splits.get("test")


def _image_folder(root: str, download: bool, in_shape=None, cache_dir: str = "data/cache", **_):
    """Class folders of PNG/JPEG under `root`, resized to `in_shape` (C×H×W), through the cache."""
    if in_shape is None:
        raise ConfigError("data=image_folder needs data.in_shape=[C,H,W], the size images are resized to")
    return _from_arrays(image_folder.load(root, in_shape, cache_dir))


def _npz(root: str, download: bool, path: str | None = None, **_):
    """Arrays `images` / `labels` (and `test_images` / `test_labels`) of the .npz file `path`."""
    if not path:
        raise ConfigError("data=npz needs data.path=<file.npz> holding arrays images (uint8) and labels")
    return _from_arrays(npz.load(path))


SOURCES: dict[str, Callable[..., tuple[Split, Split | None]]] = {
    "digits": _digits,
    "mnist": _mnist_like("MNIST"),
    "fashion_mnist": _mnist_like("FashionMNIST"),
    "cifar10": _cifar("CIFAR10"),
    "cifar100": _cifar("CIFAR100"),
    "svhn": _svhn,
    "image_folder": _image_folder,
    "npz": _npz,
}
TORCHVISION = ("mnist", "fashion_mnist", "cifar10", "cifar100", "svhn")


def check_root(name: str, root: str, download: bool) -> None:
    """Fail early, before any run folder exists, when a dataset can be neither found nor fetched."""
    check_choice("data", name, SOURCES)
    if name in TORCHVISION and not download and not Path(root).is_dir():
        raise ConfigError(
            f"data.root='{root}' does not exist; point data.root at the folder holding the "
            f"{name} files or pass data.download=true"
        )


def fetch(name: str, root: str) -> None:
    """Download dataset `name` into `root` (the preflight of data.download=true, before any run
    folder exists); on failure, remove the folders this attempt created and refuse in one line."""
    created = [p for p in (Path(root), *Path(root).parents) if not p.exists()]
    try:
        load_source(name, root, True)
    except ConfigError:
        if created:  # the top-most folder this attempt created holds everything it wrote
            shutil.rmtree(created[-1], ignore_errors=True)
        raise


def load_source(name: str, root: str, download: bool, **options) -> tuple[Split, Split | None]:
    """Load dataset `name`: (official train split, official test split or None). `options`: what a
    user's data needs besides root (image_folder: in_shape, cache_dir; npz: path)."""
    check_choice("data", name, SOURCES)
    return SOURCES[name](root, download, **options)
