"""A loader that yields whole batches by slicing tensors that already sit on the device.

A DataLoader over a TensorDataset indexes and collates sample by sample; slicing a permuted index
once per batch removes that cost (see shared/notes.md: 0.78 → 0.98 of plain-loop speed on a CNN).
"""

from collections.abc import Callable

import torch


class BatchLoader:
    """Iterate (x, y) batches of `batch_size` over tensors; reshuffled each epoch when `shuffle`.

    Epoch e's order is drawn from a generator seeded with (seed, e), so a run resumed at epoch e
    sees the batches the uninterrupted run saw; `epoch` tells the current epoch (the trainer's)."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        epoch: Callable[[], int] | None = None,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last and len(x) >= batch_size
        self.seed = seed
        self._epochs_iterated = 0
        self.epoch = epoch or (lambda: self._epochs_iterated)

    def __len__(self) -> int:
        n, b = len(self.x), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        n = len(self.x)
        order = None
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch())
            order = torch.randperm(n, generator=generator).to(self.x.device)
        self._epochs_iterated += 1
        for i in range(len(self)):
            s = slice(i * self.batch_size, min((i + 1) * self.batch_size, n))
            if order is None:
                yield self.x[s], self.y[s]
            else:
                idx = order[s]
                yield self.x[idx], self.y[idx]
