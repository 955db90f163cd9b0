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


@contextmanager
def seeded_randomness(seed: int, device: torch.device):
    """Run the block with torch's generators (CPU, and `device` if CUDA) seeded; restored after."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


class ClassifierModule(L.LightningModule):
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
    ) -> None:
        super().__init__()
        self.net, self.preprocess = net, preprocess
        raw = [op for op in augment if not getattr(op, "after_preprocess", False)]
        erase = [op for op in augment if getattr(op, "after_preprocess", False)]
        self.augment = nn.Sequential(*raw) if raw else None
        self.erase = nn.Sequential(*erase) if erase else None
        self.mixup = MixUp(alpha=plan.mixup_alpha, num_classes=num_classes) if plan.mixup_alpha else None
        self.aux_heads, self.tta = aux_heads, tta
        self._taps = tap_modules(net, plan.aux_positions) if aux_heads is not None else []
        self.optim, self.plan = optim, plan
        self.config = config
        self.eval_seed = int(config.get("seed", 0)) if config is not None else 0
        self.diverged: str | None = None  # the non-finite training loss, once it happened
        # nan_strategy "disable": a NaN loss stays NaN (the default drops it, hiding a diverged run)
        self.train_loss, self.val_loss, self.test_loss = (
            MeanMetric(nan_strategy="disable") for _ in range(3)
        )
        self.train_acc, self.val_acc, self.test_acc = (
            MulticlassAccuracy(num_classes, average="micro") for _ in range(3)
        )
        self.val_acc_best = MaxMetric()
        self._resumed_best: float | None = None

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
        hooks = [m.register_forward_hook(lambda m, a, out: features.append(out)) for m in self._taps]
        logits = self.net(x.to(self.dtype))  # the net's dtype: trainer.precision=16-true, 64-true
        for h in hooks:
            h.remove()
        loss = self.loss(logits, target)
        if self.aux_heads is not None:
            aux = sum(F.cross_entropy(a, target) for a in self.aux_heads(features))
            loss = loss + self.plan.aux_weight * aux
        # update() only: no per-step sync or log call in the hot path; logged once per epoch
        self.train_loss.update(loss.detach(), weight=len(y))
        self.train_acc.update(logits.detach(), target.argmax(-1) if target.ndim > 1 else target)
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0:
            self.log("train/loss_step", loss.detach(), on_step=True, on_epoch=False)
        return loss

    def on_train_epoch_end(self) -> None:
        loss = self.train_loss.compute()
        if not torch.isfinite(loss):  # once an epoch: no per-step sync in the hot path
            self.diverged = f"{loss.item()} in epoch {self.current_epoch + 1}"
            self.trainer.should_stop = True
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"])  # the lr this epoch used
        self.log("train/acc", self.train_acc.compute())
        self.train_loss.reset()
        self.train_acc.reset()

    def _eval_step(self, batch, batch_idx: int, loss_metric: MeanMetric, acc_metric, split: str) -> None:
        x, y = batch
        # A stochastic net at eval (fractional max-pooling's regions) draws from a generator seeded
        # by the run seed and the batch: the same checkpoint gives the same numbers every time.
        with seeded_randomness(self.eval_seed * 1_000_003 + batch_idx, x.device):
            logits = self.predict(x)
        loss_metric(F.cross_entropy(logits, y), weight=len(y))
        acc_metric(logits, y)
        self.log(f"{split}/loss", loss_metric, on_step=False, on_epoch=True)
        self.log(f"{split}/acc", acc_metric, on_step=False, on_epoch=True, prog_bar=True)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, batch_idx, self.val_loss, self.val_acc, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, batch_idx, self.test_loss, self.test_acc, "test")

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
        # torch's generators (dropout masks, augmentation draws): a resumed run continues them
        checkpoint["rng_states"] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and self.device.type == "cuda":
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state(self.device)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._resumed_best = checkpoint.get("val_acc_best")
        states = checkpoint.get("rng_states") or {}
        if "cpu" in states:
            torch.set_rng_state(states["cpu"])
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state(states["cuda"], self.device if self.device.type == "cuda" else None)
