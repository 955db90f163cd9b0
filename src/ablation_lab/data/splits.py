"""How a dataset is split into train / val / test, by count: shared by the datamodule (which draws
the images) and the preflight (which refuses splits that leave a part empty before any run starts,
with the sizes read from the files: data/inspect.py)."""

from dataclasses import dataclass

from ablation_lab.errors import ConfigError

# Sizes known without reading a file: the embedded dataset. Every other source is measured.
EMBEDDED_SIZES: dict[str, tuple[int, int | None]] = {"digits": (1797, None)}


@dataclass(frozen=True)
class SplitSizes:
    test: int  # carved from the training split when the source has no test split, else 0
    val: int
    available: int  # training images left after val (and test)
    train: int  # the training images used (train_fraction / train_size of `available`)


def split_sizes(
    n: int, has_test: bool, val_fraction: float, test_fraction: float, train_fraction: float, train_size
) -> SplitSizes:
    """Counts for a training split of `n` images: test (if carved), val, then the training prefix."""
    n_test = 0 if has_test else round(test_fraction * n)
    n_val = round(val_fraction * n)
    available = max(0, n - n_test - n_val)
    keep = train_size if train_size is not None else round(train_fraction * available)
    return SplitSizes(n_test, n_val, available, min(keep, available))


def check_split_sizes(data, n: int, n_test: int | None, what: str) -> SplitSizes:
    """Raise ConfigError when `data`'s fractions / train_size do not fit `n` training images (and
    `n_test` official test images, None when test is carved); `what` names the data in messages."""
    sizes = split_sizes(
        n, n_test is not None, data.val_fraction, data.test_fraction, data.train_fraction, data.train_size
    )
    if n_test is None and sizes.available <= 0:
        raise ConfigError(
            f"data.val_fraction={data.val_fraction} + data.test_fraction={data.test_fraction} leave no "
            f"training images of the {n} in {what}"
        )
    if data.train_size is not None and data.train_size > sizes.available:
        raise ConfigError(
            f"data.train_size={data.train_size} but {what} has {sizes.available} training images "
            f"after validation{'' if n_test is not None else ' and test'} (of {n}); "
            f"choose at most {sizes.available}"
        )
    if data.num_classes is not None and sizes.train < data.num_classes:
        setting = (
            f"data.train_size={data.train_size}"
            if data.train_size
            else f"data.train_fraction={data.train_fraction}"
        )
        raise ConfigError(
            f"{setting} leaves {sizes.train} training images, fewer than the {data.num_classes} classes of "
            f"{what}"
        )
    if sizes.val < 1 or (n_test is None and sizes.test < 1) or n_test == 0:
        raise ConfigError(f"data.val_fraction / data.test_fraction leave an empty split of {what}")
    return sizes
