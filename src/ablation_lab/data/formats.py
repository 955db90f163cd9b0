"""The files of the torchvision datasets, checked and measured before any run starts.

Torchvision reports a missing or damaged file as "not found or corrupted", a bare AssertionError or
`invalid literal for int()`, and trains on the first 150 of 200 images when a label file is short.
Here each file is named with what is wrong: MNIST's idx headers must agree with the file's length
and with each other (headers are read, not the images); CIFAR and SVHN files must match their
published MD5 (torchvision reads every byte for that check on each load anyway).
"""

import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path

import numpy as np

from ablation_lab.errors import ConfigError


@dataclass(frozen=True)
class DataInfo:
    """What the preflight needs to know of a dataset, read from its files."""

    n_train: int  # images in the training split (val, and test when carved, come from these)
    n_test: int | None  # images in the official test split, None when there is none
    shape: tuple[int, int, int]  # C, H, W of one image as the model sees it
    labels: tuple[int, int]  # the smallest and the largest label
    classes: tuple[str, ...] = ()  # class names, when the files name them (image_folder)


MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 (images) or 1 dimension
FIX = "delete it and pass data.download=true, or copy the file again"


def _missing(name: str, root: str, paths: list[Path]) -> None:
    absent = [p for p in paths if not p.is_file()]
    if len(absent) == len(paths):
        raise ConfigError(
            f"no {name} files under data.root='{root}' (expected {paths[0]} and {len(paths) - 1} more); "
            f"pass data.download=true or point data.root at the folder that holds them"
        )
    if absent:
        raise ConfigError(f"{name} file {absent[0]} is missing (of {len(paths)}); pass data.download=true")


def _corrupt(name: str, path: Path, why: str) -> ConfigError:
    return ConfigError(f"{name} file {path} is corrupt: {why}; {FIX}")


def _idx_dims(name: str, path: Path, kind: str) -> tuple[int, ...]:
    """The dimensions an idx file's header announces, once its magic number and length agree."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
        if len(head) < 4:
            raise _corrupt(name, path, f"it has {size} bytes, fewer than an idx header")
        magic = int.from_bytes(head, "big")
        if magic != IDX_MAGIC[kind]:
            raise _corrupt(
                name,
                path,
                f"it starts with {magic:#010x}, an idx file of {kind} with {IDX_MAGIC[kind]:#010x}",
            )
        ndim = magic & 0xFF
        raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise _corrupt(name, path, "its header is cut short")
    dims = struct.unpack(f">{ndim}I", raw)
    expected = 4 + 4 * ndim + prod(dims)
    if size != expected:
        shape = "×".join(map(str, dims))
        raise _corrupt(
            name, path, f"its header announces {shape} {kind} ({expected} bytes) but it has {size}"
        )
    return dims


def mnist_files(cls_name: str, root: str) -> list[Path]:
    raw = Path(root) / cls_name / "raw"
    return [raw / f for pair in MNIST_FILES.values() for f in pair]


def mnist_info(cls_name: str, root: str) -> DataInfo | None:
    """MNIST / FashionMNIST sizes from the idx headers (labels read: 60 kB); None when only
    torchvision's legacy processed/*.pt files are there (measured by loading them)."""
    paths = mnist_files(cls_name, root)
    legacy = Path(root) / cls_name / "processed"
    if not all(p.is_file() for p in paths) and all(
        (legacy / f).is_file() for f in ("training.pt", "test.pt")
    ):
        return None
    _missing(cls_name, root, paths)
    counts, shapes, labels = [], set(), []
    for images, label_file in zip(paths[::2], paths[1::2], strict=True):
        n, *hw = _idx_dims(cls_name, images, "images")
        (n_labels,) = _idx_dims(cls_name, label_file, "labels")
        if n_labels != n:
            raise _corrupt(
                cls_name, label_file, f"it holds {n_labels} labels for the {n} images of {images.name}"
            )
        values = np.frombuffer(label_file.read_bytes()[8:], dtype=np.uint8)
        counts.append(n)
        shapes.add(tuple(hw))
        labels += [int(values.min()), int(values.max())] if n else []
    if len(shapes) > 1:
        raise _corrupt(
            cls_name, paths[2], f"its images are {shapes} while training and test images must agree"
        )
    if not labels:
        raise _corrupt(cls_name, paths[0], "it holds no images")
    return DataInfo(counts[0], counts[1], (1, *shapes.pop()), (min(labels), max(labels)))


def md5_files(cls) -> list[tuple[str, str]]:
    """(file name relative to root, MD5) of a torchvision CIFAR or SVHN class (as it checks them)."""
    if hasattr(cls, "split_list"):  # SVHN: files directly in root
        return [(cls.split_list[split][1], cls.split_list[split][2]) for split in ("train", "test")]
    listed = [*cls.train_list, *cls.test_list, (cls.meta["filename"], cls.meta["md5"])]
    return [(f"{cls.base_folder}/{name}", md5) for name, md5 in listed]


def check_md5(cls_name: str, root: str) -> list[Path]:
    """Refuse a missing file or one whose MD5 is not the published one, naming it; the files."""
    import torchvision.datasets as tvd
    from torchvision.datasets.utils import calculate_md5

    files = [(Path(root) / name, md5) for name, md5 in md5_files(getattr(tvd, cls_name))]
    _missing(cls_name, root, [p for p, _ in files])
    for path, md5 in files:
        got = calculate_md5(str(path))
        if got != md5:
            raise _corrupt(cls_name, path, f"its MD5 is {got}, the published file's is {md5}")
    return [p for p, _ in files]
