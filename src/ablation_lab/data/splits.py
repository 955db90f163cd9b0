"""How a dataset is split into train / val / test, by count: shared by the datamodule (which draws
the images) and the preflight (which refuses splits that leave a part empty, without loading)."""

from dataclasses import dataclass

# (images in the official training split, in the official test split or None when there is none)
DATASET_SIZES: dict[str, tuple[int, int | None]] = {
    "digits": (1797, None),
    "mnist": (60000, 10000),
    "fashion_mnist": (60000, 10000),
    "cifar10": (50000, 10000),
    "cifar100": (50000, 10000),
    "svhn": (73257, 26032),
}


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
