"""The data half of the preflight's torch-side check (build.check_config), run in the launching
process for every job before Hydra creates a run folder: the dataset is found, its files are
intact, its real sizes are read from them (not assumed from the official release) and the config's
splits, input shape and classes are checked against them; last, a user's image folder is decoded
into its cache, once, before a sweep's first job.
"""

from functools import lru_cache
from pathlib import Path

import torch
from omegaconf import DictConfig

from ablation_lab.data import image_folder, npz
from ablation_lab.data.formats import DataInfo, check_md5, md5_files, mnist_files, mnist_info
from ablation_lab.data.sources import TORCHVISION, check_root, fetch, load_source
from ablation_lab.data.splits import check_split_sizes
from ablation_lab.errors import ConfigError

TORCHVISION_CLASSES = {
    "mnist": "MNIST",
    "fashion_mnist": "FashionMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
    "svhn": "SVHN",
}


def _signature(paths: list[Path]) -> tuple:
    stats = [p.stat() if p.is_file() else None for p in paths]
    return tuple((str(p), s and s.st_size, s and s.st_mtime_ns) for p, s in zip(paths, stats, strict=True))


@lru_cache(maxsize=32)
def _torchvision_info(name: str, root: str, signature: tuple) -> DataInfo:
    """Read once per process and per state of the files (`signature`), not once per sweep job."""
    cls_name = TORCHVISION_CLASSES[name]
    if name in ("mnist", "fashion_mnist"):
        info = mnist_info(cls_name, root)
        if info is not None:
            return info
    else:
        check_md5(cls_name, root)  # CIFAR's pickles have no header: measured by loading (MD5 first)
    train, test = load_source(name, root, False)
    labels = torch.cat([train.y, test.y])
    if len(labels) == 0:
        raise ConfigError(f"{cls_name} under data.root='{root}' holds no images")
    return DataInfo(
        len(train.y), len(test.y), tuple(train.x.shape[1:]), (int(labels.min()), int(labels.max()))
    )


def _files(name: str, root: str) -> list[Path]:
    import torchvision.datasets as tvd

    cls_name = TORCHVISION_CLASSES[name]
    if name in ("mnist", "fashion_mnist"):
        legacy = Path(root) / cls_name / "processed"
        return [*mnist_files(cls_name, root), legacy / "training.pt", legacy / "test.pt"]
    return [Path(root) / f for f, _ in md5_files(getattr(tvd, cls_name))]


def read_info(data: DictConfig) -> tuple[DataInfo, str]:
    """What the files of `data` hold, and how messages name them."""
    name, root = str(data.name), str(data.get("root"))
    if name == "digits":
        return DataInfo(1797, None, (1, 8, 8), (0, 9)), "digits"
    if name == "image_folder":
        return image_folder.info(root, data.in_shape), f"data.root='{root}'"
    if name == "npz":
        return npz.info(str(data.path)), f"data.path='{data.path}'"
    return _torchvision_info(name, root, _signature(_files(name, root))), f"{name} under data.root='{root}'"


def check_data(data: DictConfig) -> DataInfo:
    """Raise ConfigError (one line) when `data` cannot be trained on as configured; else its info."""
    name, root = str(data.name), str(data.get("root"))
    check_root(name, root, bool(data.download))
    if data.download and name in TORCHVISION:
        fetch(name, root)  # a failed download refuses the run before it starts
    info, what = read_info(data)
    declared = tuple(int(s) for s in data.in_shape)
    if info.shape != declared:
        raise ConfigError(
            f"data.in_shape={list(declared)} but the images of {what} are {list(info.shape)}; "
            f"pass data.in_shape=[{','.join(map(str, info.shape))}]"
        )
    low, high = info.labels
    if low < 0:
        raise ConfigError(f"the labels of {what} go down to {low}; labels are class indices 0, 1, 2, ...")
    if info.classes and len(info.classes) != data.num_classes:
        shown = ", ".join(info.classes[:6]) + (", ..." if len(info.classes) > 6 else "")
        raise ConfigError(
            f"data.num_classes={data.num_classes} but {what} has {len(info.classes)} class folders "
            f"({shown}); pass data.num_classes={len(info.classes)}"
        )
    if high >= data.num_classes:
        raise ConfigError(
            f"the labels of {what} go up to {high} but data.num_classes={data.num_classes}; "
            f"pass data.num_classes={high + 1}"
        )
    check_split_sizes(data, info.n_train, info.n_test, what)
    if name == "image_folder":
        image_folder.ensure_cache(root, declared, str(data.cache_dir))
    return info
