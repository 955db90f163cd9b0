"""The training epoch's tally (utils/epoch_sums.py) gives what torchmetrics' weighted MeanMetric and
micro MulticlassAccuracy would, batch sizes unequal; a NaN loss stays NaN; ranks' sums add up."""

import math

import torch
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from ablation_lab.utils.epoch_sums import EpochSums


def _batches(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    for n in (64, 64, 17):  # a short last batch: a plain mean of step losses would be wrong
        logits = torch.randn(n, 10, generator=g)
        labels = torch.randint(0, 10, (n,), generator=g)
        yield torch.nn.functional.cross_entropy(logits, labels), logits, labels


def test_the_tally_matches_the_weighted_mean_loss_and_the_micro_accuracy():
    sums, mean, acc = EpochSums(), MeanMetric(), MulticlassAccuracy(10, average="micro")
    for loss, logits, labels in _batches():
        sums.update(loss, logits, labels)
        mean.update(loss, weight=len(labels))
        acc.update(logits, labels)
    loss, accuracy = sums.compute()
    torch.testing.assert_close(loss, mean.compute())
    torch.testing.assert_close(accuracy, acc.compute())
    sums.reset()
    assert sums.compute() is None


def test_a_nan_step_makes_the_epoch_loss_nan():
    sums = EpochSums()
    for i, (loss, logits, labels) in enumerate(_batches()):
        sums.update(loss * (math.nan if i == 1 else 1.0), logits, labels)
    assert math.isnan(sums.compute()[0].item())


def test_two_ranks_sums_give_the_whole_epochs_numbers():
    whole, ranks = EpochSums(), [EpochSums(), EpochSums()]
    for i, (loss, logits, labels) in enumerate(_batches()):
        whole.update(loss, logits, labels)
        ranks[i % 2].update(loss, logits, labels)
    other = torch.stack([ranks[1].loss_sum, ranks[1].correct.float(), torch.tensor(float(ranks[1].images))])
    torch.testing.assert_close(ranks[0].compute(lambda t: t + other), whole.compute())
