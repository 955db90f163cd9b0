"""A user's arrays in one .npz file: `images` (uint8, N×H×W or N×H×W×C) and `labels` (integers,
N), and optionally `test_images` / `test_labels` as an official test split.

Read with allow_pickle=False: an array of Python objects would need unpickling, which can run
code, so it is refused. The preflight reads the arrays' headers (shape, dtype) and the labels only;
a run reads the images.
"""

import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from ablation_lab.data.formats import DataInfo
from ablation_lab.errors import ConfigError

PAIRS = {"train": ("images", "labels"), "test": ("test_images", "test_labels")}
SAVE = "np.savez(path, images=<uint8 N×H×W or N×H×W×C>, labels=<integers, N>)"


def _open(path: str) -> np.lib.npyio.NpzFile:
    if not Path(path).is_file():
        raise ConfigError(f"data.path='{path}' is not a file; point it at a .npz file saved with {SAVE}")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        reason = " ".join(str(err).split())[:120]
        raise ConfigError(
            f"data.path='{path}' is not a readable .npz archive ({reason}); save it with {SAVE}"
        ) from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ConfigError(f"data.path='{path}' holds one array, not a .npz archive; save it with {SAVE}")
    return npz


def _header(npz, path: str, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """An array's shape and dtype from its .npy header, without reading the data."""
    try:
        with npz.zip.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(f)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise ConfigError(
            f"data.path='{path}': array '{key}' is damaged ({err}); save it again with {SAVE}"
        ) from err
    if dtype.hasobject:
        raise ConfigError(
            f"data.path='{path}': array '{key}' holds Python objects, which only unpickling could read "
            f"(and unpickling can run code); refused: save plain arrays with {SAVE}"
        )
    return shape, dtype


def _check_pair(npz, path: str, images: str, labels: str) -> tuple[tuple[int, ...], np.ndarray]:
    shape, dtype = _header(npz, path, images)
    if dtype != np.uint8:
        raise ConfigError(
            f"data.path='{path}': array '{images}' is {dtype}; it must be uint8 (0..255), e.g. "
            f"np.rint(x * 255).astype(np.uint8) for images in [0, 1]"
        )
    if len(shape) not in (3, 4):
        raise ConfigError(
            f"data.path='{path}': array '{images}' has shape {shape}; it must be N×H×W or N×H×W×C"
        )
    label_shape, label_dtype = _header(npz, path, labels)
    if not np.issubdtype(label_dtype, np.integer) or len(label_shape) != 1:
        raise ConfigError(
            f"data.path='{path}': array '{labels}' is {label_dtype} of shape {label_shape}; "
            f"it must be one integer class index per image"
        )
    if label_shape[0] != shape[0]:
        raise ConfigError(
            f"data.path='{path}': array '{labels}' holds {label_shape[0]} labels for the {shape[0]} "
            f"images of '{images}'; it must hold one per image"
        )
    return shape, npz[labels]


def _pairs(npz, path: str) -> dict[str, tuple[tuple[int, ...], np.ndarray]]:
    names = set(npz.files)
    for key in PAIRS["train"]:
        if key not in names:
            held = ", ".join(sorted(names)) or "nothing"
            raise ConfigError(
                f"data.path='{path}' has no array '{key}' (it holds: {held}); save it with {SAVE}"
            )
    if (PAIRS["test"][0] in names) != (PAIRS["test"][1] in names):
        raise ConfigError(
            f"data.path='{path}': test_images and test_labels go together; it holds one of them"
        )
    return {split: _check_pair(npz, path, *keys) for split, keys in PAIRS.items() if keys[0] in names}


def _chw(shape: tuple[int, ...]) -> tuple[int, int, int]:
    return (1, *shape[1:3]) if len(shape) == 3 else (shape[3], shape[1], shape[2])


def info(path: str) -> DataInfo:
    """Sizes, image shape (C×H×W) and label range, from the headers and the labels."""
    with _open(path) as npz:
        pairs = _pairs(npz, path)
    shapes = {split: _chw(shape) for split, (shape, _) in pairs.items()}
    if len(set(shapes.values())) > 1:
        raise ConfigError(
            f"data.path='{path}': images are {shapes['train']} but test_images {shapes['test']}"
        )
    labels = np.concatenate([y for _, y in pairs.values()])
    if labels.size == 0:
        raise ConfigError(f"data.path='{path}' holds no images")
    n_test = pairs["test"][0][0] if "test" in pairs else None
    return DataInfo(pairs["train"][0][0], n_test, shapes["train"], (int(labels.min()), int(labels.max())))


@lru_cache(maxsize=8)
def _cached_info(path: str, size: int, mtime_ns: int) -> DataInfo | None:
    try:
        return info(path)
    except ConfigError:
        return None  # the preflight's check_data reads the file again and names what is wrong


def _info_or_none(path) -> DataInfo | None:
    if not path or not Path(str(path)).is_file():
        return None
    stat = Path(str(path)).stat()
    return _cached_info(str(path), stat.st_size, stat.st_mtime_ns)


def npz_shape(path) -> list[int]:
    """`${npz_shape:${.path}}`, data=npz's default in_shape: C, H, W read from the file's header."""
    found = _info_or_none(path)
    return list(found.shape) if found else [1, 28, 28]


def npz_classes(path) -> int:
    """`${npz_classes:${.path}}`, data=npz's default num_classes: the largest label + 1 (at least 2)."""
    found = _info_or_none(path)
    return max(2, found.labels[1] + 1) if found else 10


def load(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (images N×C×H×W uint8, labels int64), and "test" when the file has one}."""
    with _open(path) as npz:
        pairs = _pairs(npz, path)
        out = {}
        for split, (_, labels) in pairs.items():
            x = npz[PAIRS[split][0]]
            x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
            out[split] = (np.ascontiguousarray(x), labels.astype(np.int64))
    return out
