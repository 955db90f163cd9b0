"""The one LightningDataModule: a dataset as uint8 tensors on the training device, split once.

Splits are drawn with `split_seed` (fixed, not the run seed) so every run of a sweep validates
and tests on the same images. Preprocessing statistics are fitted on the training split only.
Knob values are checked by the config schema (config/schema.py) before a datamodule is built.
`fingerprint` identifies the data itself, so that a report never pools runs made on different data.
"""

import hashlib

import lightning as L
import torch
from torch import nn

from ablation_lab.data.loader import BatchLoader
from ablation_lab.data.sources import Split, load_source
from ablation_lab.data.splits import check_split_sizes
from ablation_lab.errors import ConfigError
from ablation_lab.techniques.preprocessing import fit_preprocess


def _take(split: Split, idx: torch.Tensor) -> Split:
    return Split(split.x[idx], split.y[idx])


def fingerprint(train: Split, test: Split | None) -> str:
    """sha256 over the whole dataset as loaded (uint8 images N×C×H×W, int64 labels; official train
    split, then test): the same images and labels give the same value whatever file format held them."""
    digest = hashlib.sha256()
    for split in (train, test):
        if split is None:
            digest.update(b"no test split")
            continue
        x, y = split.x.cpu().contiguous().numpy(), split.y.cpu().to(torch.int64).contiguous().numpy()
        digest.update(f"{tuple(x.shape)} {x.dtype} {len(y)}".encode())
        digest.update(memoryview(x).cast("B"))
        digest.update(memoryview(y).cast("B"))
    return f"sha256:{digest.hexdigest()}"


class TensorDataModule(L.LightningDataModule):
    """Loads `name` into memory, carves train/val (and test when the source has none)."""

    def __init__(
        self,
        name: str = "digits",
        root: str = "data",
        download: bool = False,
        batch_size: int = 64,
        eval_batch_size: int = 512,
        val_fraction: float = 0.15,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        preprocess: str = "standardize",
        whiten_eps: float = 1e-3,
        train_fraction: float = 1.0,
        train_size: int | None = None,
        path: str | None = None,
        cache_dir: str = "data/cache",
        in_shape: list[int] | None = None,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        self.path, self.cache_dir, self.in_shape, self.num_classes = path, cache_dir, in_shape, num_classes
        self.fingerprint: str | None = None  # known once loaded
        self.train_fraction, self.train_size, self.whiten_eps = train_fraction, train_size, whiten_eps
        self.name, self.root, self.download = name, root, download
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.val_fraction, self.test_fraction, self.split_seed = val_fraction, test_fraction, split_seed
        self.preprocess_name = preprocess
        self.train = self.val = self.test = None
        self._seed = 0

    def prepare_data(self) -> None:
        if self.download:
            load_source(self.name, self.root, True)

    def setup(self, stage: str | None = None) -> None:
        if self.train is None:
            self._load()
        device = self._device()
        if self.train.x.device != device:
            self.train, self.val, self.test = (
                Split(s.x.to(device), s.y.to(device)) for s in (self.train, self.val, self.test)
            )

    def _load(self) -> None:
        options = {"path": self.path, "in_shape": self.in_shape, "cache_dir": self.cache_dir}
        full_train, test = load_source(self.name, self.root, False, **options)
        self.fingerprint = fingerprint(full_train, test)
        g = torch.Generator().manual_seed(self.split_seed)
        order = torch.randperm(len(full_train.y), generator=g)
        sizes = check_split_sizes(self, len(order), None if test is None else len(test.y), self.name)
        if test is None:
            test, order = _take(full_train, order[: sizes.test]), order[sizes.test :]
        self.val = _take(full_train, order[: sizes.val])
        # order is a split_seed permutation: a prefix of the rest is a fixed random subset
        self.train = _take(full_train, order[sizes.val : sizes.val + sizes.train])
        self.test = test
        if min(len(self.train.y), len(self.val.y), len(self.test.y)) == 0:
            raise ConfigError(
                f"data split of {self.name} leaves a part empty: train {len(self.train.y)}, "
                f"val {len(self.val.y)}, test {len(self.test.y)} images"
            )

    def _device(self) -> torch.device:
        trainer = getattr(self, "trainer", None)
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def fit_preprocess(self) -> nn.Module:
        """Preprocessing fitted on the training split (call after `setup`)."""
        return fit_preprocess(self.preprocess_name, self.train.x.cpu(), self.whiten_eps)

    def set_seed(self, seed: int) -> None:
        """Seed of the training-set shuffling, so a run is reproducible from its seed."""
        self._seed = seed

    def train_dataloader(self) -> BatchLoader:
        return BatchLoader(
            self.train.x, self.train.y, self.batch_size, shuffle=True, seed=self._seed, epoch=self._epoch
        )

    def _epoch(self) -> int:
        trainer = getattr(self, "trainer", None)
        return trainer.current_epoch if trainer is not None else 0

    def val_dataloader(self) -> BatchLoader:
        return BatchLoader(self.val.x, self.val.y, self.eval_batch_size)

    def test_dataloader(self) -> BatchLoader:
        return BatchLoader(self.test.x, self.test.y, self.eval_batch_size)
