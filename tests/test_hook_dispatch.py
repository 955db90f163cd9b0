"""utils/hook_dispatch.py skips only hooks whose body is empty: a callback and a module that record
every hook they are given see the same hooks, in the same order, with the same arguments and the
same `_current_fx_name`, with Lightning's own dispatch and with the lab's; a chosen profiler still
sees every call."""

import functools

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.core.hooks import ModelHooks
from lightning.pytorch.profilers import SimpleProfiler
from lightning.pytorch.trainer import call
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import ablation_lab.train as train_module
from ablation_lab.train import train
from ablation_lab.utils.hook_dispatch import acts, does_nothing, install
from ablation_lab.utils.hot_path import NoProfiler

DISPATCHERS = ("_call_callback_hooks", "_call_lightning_module_hook")


def _pass(self, x):
    pass


def _doc(self):
    """Only a docstring."""


def _ellipsis(self): ...


def _return_none(self):
    return None


def _bare_return(self, x):
    if x:
        return
    return None


def _returns_one(self):
    return 1


def _sets(self):
    self.seen = True


@pytest.mark.parametrize(
    "fn, empty",
    [
        (_pass, True),
        (_doc, True),
        (_ellipsis, True),
        (_return_none, True),
        (lambda self: None, True),
        (Callback.on_train_batch_end, True),
        (ModelHooks.on_before_zero_grad, True),
        (_bare_return, False),  # a branch is something: only a body that cannot act is empty
        (_returns_one, False),
        (_sets, False),
        (L.LightningModule.on_before_batch_transfer, False),  # returns the batch
        (print, False),  # a builtin: assumed to act
        (functools.partial(_sets), False),
        (None, False),
    ],
)
def test_only_a_body_that_cannot_act_counts_as_empty(fn, empty):
    assert does_nothing(fn) is empty


def test_an_instance_attribute_hook_acts_though_its_class_hook_is_empty():
    callback = Callback()
    assert not acts(callback, "on_train_batch_end")
    callback.on_train_batch_end = lambda *a: None
    assert acts(callback, "on_train_batch_end")


def test_a_hook_given_a_body_after_its_first_dispatch_is_called(monkeypatch):
    class Late(Callback):
        pass

    callback = Late()
    assert not acts(callback, "on_train_batch_end")
    monkeypatch.setattr(Late, "on_train_batch_end", _sets)
    assert acts(callback, "on_train_batch_end")


CALLBACK_HOOKS = sorted(n for n in vars(Callback) if n.startswith("on_") and n not in ("on_exception",))
MODULE_HOOKS = sorted(
    n for n in vars(ModelHooks) if n.startswith("on_") and does_nothing(getattr(ModelHooks, n))
)


def _recording(names, log, tag):
    def make(name):
        def hook(self, *args, **kwargs):
            module, given = (self, args) if isinstance(self, L.LightningModule) else (args[1], args[2:])
            shapes = [tuple(a.shape) if isinstance(a, torch.Tensor) else type(a).__name__ for a in given]
            log.append((tag, name, module._current_fx_name, shapes))

        return hook

    return {name: make(name) for name in names}


class _Quiet(Callback):
    """Overrides hooks with empty bodies: they are skipped, unseen."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        pass

    def on_after_backward(self, trainer, pl_module): ...


def _fit(log: list, profiler) -> None:
    Recorder = type("Recorder", (Callback,), _recording(CALLBACK_HOOKS, log, "callback"))

    class Module(L.LightningModule):
        locals().update(_recording(MODULE_HOOKS, log, "module"))

        def __init__(self):
            super().__init__()
            self.net = nn.Linear(4, 2)

        def training_step(self, batch, batch_idx):
            return nn.functional.cross_entropy(self.net(batch[0]), batch[1])

        def validation_step(self, batch, batch_idx):
            self.log("val/loss", nn.functional.cross_entropy(self.net(batch[0]), batch[1]))

        test_step = validation_step

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(16, 4), torch.arange(16) % 2)
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=2, limit_train_batches=3, limit_val_batches=2, logger=False,
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
        callbacks=[Recorder(), _Quiet(), Callback()], profiler=profiler,
    )  # fmt: skip
    module = Module()
    trainer.fit(module, DataLoader(data, batch_size=4), DataLoader(data, batch_size=4))
    trainer.test(module, DataLoader(data, batch_size=4), verbose=False)
    return trainer


def _lightnings_own(monkeypatch) -> None:
    for name in DISPATCHERS:
        fn = getattr(call, name)
        monkeypatch.setattr(call, name, getattr(fn, "__wrapped__", fn))


def test_every_hook_with_a_body_is_called_as_lightning_calls_it(monkeypatch):
    with monkeypatch.context() as m:
        _lightnings_own(m)
        before: list = []
        _fit(before, NoProfiler())
    assert install()
    after: list = []
    _fit(after, NoProfiler())
    assert after == before
    seen = {(tag, name) for tag, name, *_ in after}
    assert ("callback", "on_train_batch_end") in seen and ("module", "on_before_optimizer_step") in seen
    assert all(fx == name for _, name, fx, _ in after if name.endswith("_batch_end"))


def test_a_chosen_profiler_still_times_every_hook(monkeypatch):
    assert install()
    trainer = _fit([], SimpleProfiler())
    actions = set(trainer.profiler.recorded_durations)
    assert "[Callback]_Quiet.on_train_batch_start" in actions  # an empty hook, called and timed
    assert "[LightningModule]Module.on_train_batch_start" in actions


def test_a_lightning_whose_dispatchers_take_other_arguments_keeps_them(monkeypatch):
    _lightnings_own(monkeypatch)

    def other(trainer, hook_name, *args, **kwargs):
        return None

    monkeypatch.setattr(call, "_call_callback_hooks", other)
    assert install() is False
    assert call._call_callback_hooks is other


def test_a_run_skips_the_empty_hooks_and_its_callbacks_see_every_step(make_cfg, monkeypatch):
    _lightnings_own(monkeypatch)
    steps = []

    class Steps(Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            steps.append((trainer.global_step, pl_module._current_fx_name))

    build_callbacks = train_module.build_callbacks
    monkeypatch.setattr(train_module, "build_callbacks", lambda *a: [*build_callbacks(*a), Steps()])
    train(make_cfg("++trainer.limit_train_batches=3", "trainer.max_epochs=2"))
    assert getattr(call._call_callback_hooks, "_lab_skips_empty_hooks", False)
    assert getattr(call._call_lightning_module_hook, "_lab_skips_empty_hooks", False)
    assert steps == [(s, "on_train_batch_end") for s in range(1, 7)]
