"""The one LightningModule: raw uint8 batch → augment (train only) → preprocess → erase (cutout,
train only) → mixup → net → loss.

Augmentation and preprocessing run on the whole batch on the training device. Preprocessing
statistics are buffers of this module, so checkpoints carry them to evaluation.
"""

from contextlib import contextmanager

import lightning as L
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy
from torchvision.transforms.v2 import MixUp

from ablation_lab.techniques.aux_heads import tap_modules
from ablation_lab.techniques.regularizers import RegularizationPlan, decay_parameters
from ablation_lab.utils.epoch_sums import EpochSums
from ablation_lab.utils.hot_path import FastFxName


@contextmanager
def seeded_randomness(seed: int, device: torch.device):
    """Run the block with torch's generators (CPU, and `device` if CUDA) seeded; restored after."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


class ClassifierModule(FastFxName, L.LightningModule):
    """Trains `net` with cross-entropy plus the penalties of the regularization plan."""

    def __init__(
        self,
        net: nn.Module,
        preprocess: nn.Module,
        augment: nn.Module,
        optim: DictConfig,
        plan: RegularizationPlan,
        num_classes: int,
        aux_heads: nn.Module | None = None,
        tta=None,
        config: DictConfig | None = None,
        compile: bool = False,
    ) -> None:
        super().__init__()
        self.net, self.preprocess = net, preprocess
        raw = [op for op in augment if not getattr(op, "after_preprocess", False)]
        erase = [op for op in augment if getattr(op, "after_preprocess", False)]
        self.augment = nn.Sequential(*raw) if raw else None
        self.erase = nn.Sequential(*erase) if erase else None
        self.mixup = MixUp(alpha=plan.mixup_alpha, num_classes=num_classes) if plan.mixup_alpha else None
        self.aux_heads, self.tta = aux_heads, tta
        # Aux heads read the tapped blocks' outputs through hooks registered once, here, before any
        # compile: a compiled net traces them in (hooks added per step would make it recompile).
        # They record only while a training step holds the sink open; evaluation passes add nothing.
        self._feature_sink: dict[str, list | None] = {"features": None}
        for m in tap_modules(net, plan.aux_positions) if aux_heads is not None else []:
            m.register_forward_hook(self._record_feature)
        self.optim, self.plan = optim, plan
        self.config = config
        # compile=true: a compiled view of the net for training steps, kept outside the module tree
        # (a plain attribute in a dict) so state_dict keys and checkpoints stay those of the plain net.
        # Steps that hook the net (diagnostics set `plain_step`) run the plain net: hooks added per
        # step would make the compiled graph recompile.
        self._compiled = {"net": torch.compile(net)} if compile else {}
        if compile:
            # Dynamo reuses a graph compiled for another net of the same class (an earlier run of
            # this process: a sweep, the tests) without checking its hooks by default; the aux
            # heads' hooks must be part of what it checks, or their features go missing.
            torch._dynamo.config.skip_nnmodule_hook_guards = False
        self.plain_step = False
        self.eval_seed = int(config.get("seed", 0)) if config is not None else 0
        self.diverged: str | None = None  # the non-finite training loss, once it happened
        # nan_strategy "disable": a NaN loss stays NaN (the default drops it, hiding a diverged run)
        self.train_sums = EpochSums()  # the training step's own tally: no torchmetrics wrapper per step
        self.val_loss, self.test_loss = (MeanMetric(nan_strategy="disable") for _ in range(2))
        # validate_args=False: the checks call torch.unique on every update, a host-device sync per step
        self.val_acc, self.test_acc = (
            MulticlassAccuracy(num_classes, average="micro", validate_args=False) for _ in range(2)
        )
        self.val_acc_best = MaxMetric()
        self._resumed_best: float | None = None

    def _record_feature(self, module: nn.Module, args, out: torch.Tensor) -> None:
        """Forward hook of a tapped block: its output, for the aux heads, during a training step."""
        if self._feature_sink["features"] is not None:
            self._feature_sink["features"].append(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for raw images (uint8 or float in 0..255), one pass."""
        return self.net(self.preprocess(x.float()).to(self.dtype))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluation logits: log of the mean softmax over test-time views (data.tta) and over the
        passes of a stochastic net (fractional max-pooling); plain logits when there is one pass."""
        views = self.tta(x.float()) if self.tta is not None else [x]
        passes = self.plan.test_passes
        if len(views) * passes == 1:
            return self(x)
        probs = sum(self(v).softmax(-1) for v in views for _ in range(passes)) / (len(views) * passes)
        return probs.clamp_min(1e-12).log()

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy (hard or soft targets, label smoothing ε) − β·entropy + penalties."""
        loss = F.cross_entropy(logits, target, label_smoothing=self.plan.label_smoothing)
        if self.plan.confidence_penalty:
            logp = logits.log_softmax(-1)
            loss = loss + self.plan.confidence_penalty * (logp.exp() * logp).sum(-1).mean()
        for penalty in self.plan.penalties:
            loss = loss + penalty(self.net)
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        x = x.float()
        if self.augment is not None:
            x = self.augment(x)
        x = self.preprocess(x)
        if self.erase is not None:
            x = self.erase(x)
        target = y
        if self.mixup is not None:
            x, target = self.mixup(x, y)
        features: list[torch.Tensor] = []
        self._feature_sink["features"] = features
        net = self.net if self.plain_step else self._compiled.get("net", self.net)
        try:
            logits = net(x.to(self.dtype))  # the net's dtype: trainer.precision=16-true, 64-true
        finally:
            self._feature_sink["features"] = None
        loss = self.loss(logits, target)
        if self.aux_heads is not None:
            aux = sum(F.cross_entropy(a, target) for a in self.aux_heads(features))
            loss = loss + self.plan.aux_weight * aux
        # sums on the device only: no per-step sync or log call in the hot path; logged once per epoch
        self.train_sums.update(loss, logits, target.argmax(-1) if target.ndim > 1 else target)
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0:
            # straight to the loggers (rank 0's, like self.log without sync_dist): self.log's result
            # bookkeeping costs more than the value it logs, for a number read once
            value = {"train/loss_step": loss.detach().item()}
            for logger in self.loggers:
                logger.log_metrics(value, step=self.global_step)
        return loss

    def on_train_epoch_end(self) -> None:
        sums = self.train_sums.compute(lambda t: self.trainer.strategy.reduce(t, reduce_op="sum"))
        self.train_sums.reset()
        if sums is None:  # no training step this epoch (limit_train_batches=0)
            return
        loss, acc = sums
        if not torch.isfinite(loss):  # once an epoch: no per-step sync in the hot path
            self.diverged = f"{loss.item()} in epoch {self.current_epoch + 1}"
            self.trainer.should_stop = True
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"])  # the lr this epoch used
        self.log("train/acc", acc)

    def _eval_step(self, batch, batch_idx: int, loss_metric: MeanMetric, acc_metric, split: str) -> None:
        x, y = batch
        # A stochastic net at eval (fractional max-pooling's regions) draws from a generator seeded
        # by the run seed and the batch: the same checkpoint gives the same numbers every time.
        with seeded_randomness(self.eval_seed * 1_000_003 + batch_idx, x.device):
            logits = self.predict(x)
        loss = F.cross_entropy(logits, y)
        loss_metric(loss, weight=torch.full_like(loss, len(y)))
        acc_metric(logits, y)
        self.log(f"{split}/loss", loss_metric, on_step=False, on_epoch=True)
        self.log(f"{split}/acc", acc_metric, on_step=False, on_epoch=True, prog_bar=True)
        # images counted over all ranks (metrics.json, not TensorBoard): each exactly once under DDP
        log = {"on_step": False, "on_epoch": True, "reduce_fx": "sum", "sync_dist": True, "logger": False}
        self.log(f"{split}/images", float(len(y)), batch_size=len(y), **log)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, batch_idx, self.val_loss, self.val_acc, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, batch_idx, self.test_loss, self.test_acc, "test")

    def setup(self, stage: str) -> None:
        """Under DDP, ranks above 0 reseed torch's generators (the run seed and the rank), so that
        they draw their own dropout masks and augmentations; rank 0 keeps the run seed's stream, as
        one process would. On a GPU, a conv net's weights go channels_last (faster convolutions)."""
        if self.trainer.world_size > 1 and self.trainer.global_rank > 0:
            torch.manual_seed(self.eval_seed * 100_003 + self.trainer.global_rank)
        if self.trainer.strategy.root_device.type == "cuda" and self._conv_net():
            self.net.to(memory_format=torch.channels_last)

    def _conv_net(self) -> bool:
        return any(isinstance(m, nn.Conv2d) for m in self.net.modules())

    def on_train_start(self) -> None:
        self.val_acc_best.reset()  # forget the sanity-check pass
        if self._resumed_best is not None:  # a resumed run remembers the epochs before the kill
            self.val_acc_best.update(torch.tensor(self._resumed_best, device=self.device))

    def best_val_acc(self) -> float | None:
        """The best validation accuracy so far, epochs before a resume included (None before any)."""
        value = float(self.val_acc_best.max_value)
        return value if value != float("-inf") else self._resumed_best

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        self.val_acc_best(self.val_acc.compute())
        best = self.val_acc_best.compute()
        self.log("val/acc_best", best, prog_bar=True)

    def configure_optimizers(self):
        decay = {id(p) for p in decay_parameters(self)}
        wd = self.plan.weight_decay if self.plan.decoupled_weight_decay else 0.0
        params = [p for p in self.parameters() if p.requires_grad]  # net and aux heads
        groups = [
            {"params": [p for p in params if id(p) in decay], "weight_decay": wd},
            {"params": [p for p in params if id(p) not in decay], "weight_decay": 0.0},
        ]
        optimizer = instantiate(self.optim.optimizer)(groups)
        if self.optim.get("scheduler") is None:
            return optimizer
        scheduler = instantiate(self.optim.scheduler)(optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self.config is not None:
            checkpoint["ablation_lab_config"] = OmegaConf.to_container(self.config, resolve=True)
        checkpoint["val_acc_best"] = self.best_val_acc()  # not in the metric's state_dict
        # torch's generators (dropout masks, augmentation draws) of every rank, one row per global
        # rank: a resumed run continues them. Every rank gets here (Lightning dumps on all ranks).
        checkpoint["rng_states"] = {"cpu": self._every_rank(torch.get_rng_state())}
        if torch.cuda.is_available() and self.device.type == "cuda":
            checkpoint["rng_states"]["cuda"] = self._every_rank(torch.cuda.get_rng_state(self.device))

    def _every_rank(self, state: torch.Tensor) -> torch.Tensor:
        """(world size, n): each rank's generator state, gathered (on the device: nccl needs it)."""
        if self.trainer.world_size == 1:
            return state[None]
        return self.all_gather(state.to(self.device)).cpu()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._resumed_best = checkpoint.get("val_acc_best")
        states = checkpoint.get("rng_states") or {}
        cpu, cuda = (own_row(states.get(k), self.global_rank) for k in ("cpu", "cuda"))
        if cpu is not None:
            torch.set_rng_state(cpu)
        if cuda is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state(cuda, self.device if self.device.type == "cuda" else None)


def own_row(states: torch.Tensor | None, rank: int) -> torch.Tensor | None:
    """This rank's saved generator state: its row (None when the saving run had fewer ranks), or
    the one state of a checkpoint written before states were kept per rank. A copy: torch 2.14's
    set_rng_state reads a row view (a storage offset) out of bounds and crashes."""
    if states is None or states.ndim == 1:
        return states
    return states[rank].clone() if rank < len(states) else None
