"""A user's images: one sub-folder per class (or `train/` and `test/`, each with the same class
folders), PNG or JPEG, decoded and resized once to `data.in_shape` and kept as uint8 arrays.

Decoding thousands of files per run would cost more than training a small model on them, so the
arrays go to a cache file, `<cache_dir>/image_folder/<key>.npz`, built by the preflight before a
sweep's first job. The key hashes the shape and every image's path, size and modification time:
adding, changing or removing an image makes a new cache. Written under a temporary name and then
renamed, so no run ever reads half a file. Classes are numbered by folder name, as torchvision's
ImageFolder does.
"""

import hashlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ablation_lab.data.formats import DataInfo
from ablation_lab.errors import ConfigError

SUFFIXES = (".png", ".jpg", ".jpeg")
CACHE_VERSION = 1  # bump when decoding changes, so older caches are not read


@dataclass(frozen=True)
class Listing:
    """The images under a root, by split, with their labels (class indices)."""

    root: Path
    classes: tuple[str, ...]
    files: dict[str, list[tuple[Path, int]]]  # "train" (and "test") -> [(image, label)]


def _folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    found = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(top) / n for n in sorted(names) if n.lower().endswith(SUFFIXES) and n[0] != "."]
    return found


def class_folders(root) -> int:
    """`${class_folders:${.root}}`, data=image_folder's default num_classes: the number of class
    folders under `root`; at least 2, so that the preflight (not the schema) names a bad folder."""
    base = Path(str(root)) if root else None
    if base is None or not base.is_dir():
        return 2
    top = _folders(base)
    if {p.name for p in top} == {"train", "test"}:
        top = _folders(base / "train")
    return max(2, len(top))


def list_images(root: str) -> Listing:
    """The class folders and images under `root`; refuses a layout a classifier cannot train on."""
    base = Path(root)
    if not base.is_dir():
        raise ConfigError(
            f"data.root='{root}' is not a folder; point it at a folder with one sub-folder of "
            f"images per class"
        )
    top = _folders(base)
    split_dirs = {"train": base / "train", "test": base / "test"}
    if {p.name for p in top} != set(split_dirs):
        split_dirs = {"train": base}
    train_dir = split_dirs["train"]
    per_class = {p.name: _images(p) for p in _folders(train_dir)}
    if not any(per_class.values()):
        raise ConfigError(
            f"data.root='{root}' holds no class folders of PNG/JPEG images; expected "
            f"{train_dir}/<class>/<image>.png, one sub-folder per class"
        )
    if len(per_class) == 1:
        raise ConfigError(
            f"data.root='{root}' holds one class folder ('{next(iter(per_class))}'); "
            f"a classifier needs images in at least 2 class folders"
        )
    empty = [name for name, images in per_class.items() if not images]
    if empty:
        raise ConfigError(
            f"class folder {train_dir / empty[0]} holds no PNG/JPEG images; add some or remove the folder"
        )
    classes = tuple(per_class)
    files = {"train": [(p, i) for i, name in enumerate(classes) for p in per_class[name]]}
    if "test" in split_dirs:
        test_folders = _folders(split_dirs["test"])
        unknown = [p for p in test_folders if p.name not in classes]
        if unknown:
            raise ConfigError(
                f"{unknown[0]} is not a class folder of {train_dir} (classes: {', '.join(classes)})"
            )
        files["test"] = [(p, classes.index(d.name)) for d in test_folders for p in _images(d)]
        if not files["test"]:
            raise ConfigError(f"{split_dirs['test']} holds no PNG/JPEG images in class folders")
    return Listing(base, classes, files)


def check_shape(shape) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in shape)
    if shape[0] not in (1, 3):
        raise ConfigError(
            f"data.in_shape={list(shape)}: data=image_folder decodes images to 1 (grey) or 3 (RGB) channels"
        )
    return shape


def info(root: str, shape) -> DataInfo:
    """Sizes and classes from the listing alone (no image is decoded)."""
    listing = list_images(root)
    n_test = len(listing.files["test"]) if "test" in listing.files else None
    labels = [label for items in listing.files.values() for _, label in items]
    return DataInfo(
        len(listing.files["train"]), n_test, check_shape(shape), (min(labels), max(labels)), listing.classes
    )


def cache_path(listing: Listing, shape, cache_dir: str) -> Path:
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, list(shape), listing.classes]).encode())
    for split, items in listing.files.items():
        for path, label in items:
            stat = path.stat()
            relative = path.relative_to(listing.root)
            digest.update(f"{split}\0{relative}\0{label}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return Path(cache_dir) / "image_folder" / f"{digest.hexdigest()[:24]}.npz"


def _decode(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    """One image as C×H×W uint8: converted to grey or RGB, resized (bilinear) to H×W."""
    from PIL import Image

    c, h, w = shape
    try:
        with Image.open(path) as image:
            image = image.convert("L" if c == 1 else "RGB")
            if image.size != (w, h):
                image = image.resize((w, h), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        reason = " ".join(str(err).split())
        raise ConfigError(
            f"{path} is not a readable PNG/JPEG image ({reason}); replace or remove it"
        ) from err
    return array.reshape(h, w, c).transpose(2, 0, 1)


def _decode_all(items: list[tuple[Path, int]], shape) -> tuple[np.ndarray, np.ndarray]:
    x = np.empty((len(items), *shape), dtype=np.uint8)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # PIL decodes without the GIL
        for i, array in enumerate(pool.map(lambda item: _decode(item[0], shape), items)):
            x[i] = array
    return x, np.array([label for _, label in items], dtype=np.int64)


def _write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError as err:
        raise ConfigError(
            f"the image cache cannot be written to {path.parent} ({err.strerror}); "
            f"pass paths.data_dir=<a writable folder> (or data.cache_dir=...)"
        ) from err
    finally:
        tmp.unlink(missing_ok=True)


def ensure_cache(root: str, shape, cache_dir: str) -> Path:
    """The cache file of `root` at `shape`, decoding the images first if there is none."""
    shape = check_shape(shape)
    listing = list_images(root)
    path = cache_path(listing, shape, cache_dir)
    if not path.is_file():
        n = sum(len(items) for items in listing.files.values())
        print(
            f"data=image_folder: decoding {n} images of {len(listing.classes)} classes in '{root}' "
            f"once, into {path}",
            file=sys.stderr,
        )
        arrays = {"classes": np.array(listing.classes)}  # a unicode array: no pickle needed
        for split, items in listing.files.items():
            arrays[f"x_{split}"], arrays[f"y_{split}"] = _decode_all(items, shape)
        _write_atomically(path, arrays)
    return path


def load(root: str, shape, cache_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (images N×C×H×W uint8, labels int64), and "test" when the folder has one}."""
    with np.load(ensure_cache(root, shape, cache_dir), allow_pickle=False) as cached:
        return {
            s: (cached[f"x_{s}"], cached[f"y_{s}"]) for s in ("train", "test") if f"y_{s}" in cached.files
        }
