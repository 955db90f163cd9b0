"""The per-step savings of utils/hot_path.py change nothing a run keeps: the trainer a run builds
profiles nothing unless asked, checkpoint state stays under Lightning's own keys, and the module's
attributes register as nn.Module's do."""

import ctypes
import os
import pickle

import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torch import nn

import ablation_lab.train as train_module
from ablation_lab.train import train
from ablation_lab.utils import hot_path
from ablation_lab.utils.checkpoints import checkpoint_callbacks
from ablation_lab.utils.devices import trainer_options
from ablation_lab.utils.hot_path import NVML_CHECK, NoProfiler, drop_failing_nvml_probe


class _Seen(Callback):
    def on_train_batch_end(self, trainer, module, *args) -> None:
        self.profiler = trainer.profiler
        self.fx_name = module._current_fx_name  # set by Lightning around this very hook
        self.keys = [c.state_key for c in trainer.checkpoint_callbacks]


@pytest.mark.parametrize("profiler", [None, "simple"])
def test_a_run_profiles_nothing_unless_a_profiler_is_chosen(make_cfg, monkeypatch, profiler):
    seen = _Seen()
    build_callbacks = train_module.build_callbacks
    monkeypatch.setattr(train_module, "build_callbacks", lambda *a: [*build_callbacks(*a), seen])
    extra = [f"+trainer.profiler={profiler}"] if profiler else []
    train(make_cfg("++trainer.limit_train_batches=2", "checkpoints=both", *extra))
    if profiler is None:
        assert type(seen.profiler) is NoProfiler
        assert seen.profiler.profile("a") is seen.profiler.profile("b")  # one shared no-op context
    else:
        assert type(seen.profiler).__name__ == "SimpleProfiler"
        assert "profiler" not in trainer_options(make_cfg(*extra), sweep=False, launcher=None)
    assert seen.fx_name == "on_train_batch_end"
    assert len(seen.keys) == 2 and all(k.startswith("ModelCheckpoint{") for k in seen.keys)


@pytest.mark.parametrize("policy", ["both", "best", "last"])
def test_checkpoint_state_keys_are_lightnings_own(tmp_path, policy):
    """A last.ckpt written by Lightning's ModelCheckpoint (or before this cache) resumes its callbacks'
    state (best path, best score) only under the same key."""
    ours = [c for c in checkpoint_callbacks(policy, tmp_path, sweep=False) if isinstance(c, ModelCheckpoint)]
    assert ours
    for callback in ours:
        plain = ModelCheckpoint(
            tmp_path,
            callback.filename,
            monitor=callback.monitor,
            mode=callback.mode,
            save_top_k=callback.save_top_k,
        )
        assert callback.state_key == plain.state_key == callback.state_key  # cached: the same twice
        assert isinstance(callback, ModelCheckpoint)
        assert pickle.loads(pickle.dumps(callback)).state_key == plain.state_key  # a launcher may pickle it


def test_the_module_registers_parameters_and_modules_as_nn_module_does(make_cfg):
    from ablation_lab.build import build_datamodule, build_module

    cfg = make_cfg()
    module = build_module(cfg, build_datamodule(cfg))
    module._current_fx_name = "training_step"
    assert module._current_fx_name == "training_step" and "_current_fx_name" not in module._modules
    module.extra = nn.Linear(2, 2)
    module.scale = nn.Parameter(torch.ones(1))
    assert "extra" in module._modules and "scale" in module._parameters
    assert {"extra.weight", "scale"} <= set(module.state_dict())


@pytest.mark.parametrize("optim", ["adamw", "sgd"])
def test_the_runs_fused_optimizer_takes_the_for_loops_steps(make_cfg, optim):
    """optim.optimizer.fused (the default): one kernel per step, the same updates as torch's
    per-parameter loop to float rounding, weight-decay groups included."""
    import torch.nn.functional as F

    from ablation_lab.build import build_datamodule, build_module

    assert make_cfg(f"optim={optim}").optim.optimizer.fused is True  # the default
    weights = {}
    for fused in (True, False):
        torch.manual_seed(0)
        cfg = make_cfg(f"optim={optim}", f"optim.optimizer.fused={fused}", "regularization=weight_decay")
        module = build_module(cfg, build_datamodule(cfg))
        opt = module.configure_optimizers()["optimizer"]
        assert opt.defaults["fused"] is fused and len(opt.param_groups) == 2
        x, y = torch.rand(16, *cfg.data.in_shape) * 255, torch.arange(16) % 10
        for _ in range(5):
            opt.zero_grad()
            F.cross_entropy(module(x), y).backward()
            opt.step()
        weights[fused] = {k: v.detach().clone() for k, v in module.net.state_dict().items()}
    for key, value in weights[True].items():
        torch.testing.assert_close(value, weights[False][key], rtol=1e-5, atol=1e-6, msg=key)


def _nvml_loads() -> bool:
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
        return True
    except OSError:
        return False


@pytest.mark.parametrize("loads", [True, False])
def test_the_nvml_check_is_dropped_only_where_nvml_cannot_load(monkeypatch, loads):
    def cdll(name):
        if not loads:
            raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(hot_path.ctypes, "CDLL", cdll)
    drop_failing_nvml_probe()
    assert (os.environ.get(NVML_CHECK) == "1") == loads


def test_a_run_leaves_no_failing_nvml_load_in_its_optimizer_steps(make_cfg, monkeypatch):
    """Lightning's import sets the NVML check; after train() it stays only where NVML loads (a GPU
    machine), so torch.cuda.is_available(), which AdamW calls every step, answers from CUDA."""
    monkeypatch.setenv(NVML_CHECK, "1")
    train(make_cfg("threads=1"))
    assert (NVML_CHECK in os.environ) == _nvml_loads()
    if not _nvml_loads():
        assert torch.cuda.is_available() is False
