"""What a finished run leaves is what it says: ablation-eval reproduces its test numbers for every
regularizer (stochastic ones included), last.ckpt holds the final weights, and the default of each
regularization option moves the statistic the technique exists to move."""

import json
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

import ablation_lab.train as train_module
from ablation_lab.build import build_datamodule, build_module
from ablation_lab.eval import evaluate
from ablation_lab.train import train

import tb_events

CONF = Path(__file__).resolve().parents[1] / "conf"
REGULARIZERS = sorted(p.stem for p in (CONF / "regularization").glob("*.yaml"))
MODEL_FOR = {
    "stochastic_depth": ["model=resnet", "model.depth=8", "model.width=8"],
    "fractional_max_pool": ["model=cnn"],
}


def _eval(ckpt: str, out: Path) -> dict:
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("eval", overrides=[f"ckpt_path='{ckpt}'", f"paths.output_dir={out}", "accelerator=cpu"])
    out.mkdir(exist_ok=True)
    return evaluate(cfg)


@pytest.mark.parametrize(
    "overrides",
    [[f"regularization={r}", *MODEL_FOR.get(r, [])] for r in REGULARIZERS]
    + [
        ["data.tta=flip_crop", "model=cnn"],
        ["regularization=[fractional_max_pool,dropout]", "model=cnn", "data.tta=hflip"],
    ],
    ids=lambda o: " ".join(o),
)
def test_eval_of_the_best_checkpoint_reproduces_the_runs_test_numbers(make_cfg, tmp_path, overrides):
    run = train(make_cfg(*overrides, "trainer.max_epochs=2", "++trainer.limit_train_batches=3"))
    best = json.loads((tmp_path / "metrics.json").read_text())["best_checkpoint"]
    first, second = _eval(best, tmp_path / "eval1"), _eval(best, tmp_path / "eval2")
    assert first["test/acc"] == run["test/acc"] and first["test/loss"] == pytest.approx(
        run["test/loss"], abs=1e-6
    )
    assert second == first


class _FinalWeights(L.Callback):
    def on_train_end(self, trainer, module) -> None:
        self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}


STOP_EARLY = [
    "regularization=early_stopping",
    "regularization.early_stopping.patience=0",
    "regularization.early_stopping.min_delta=1.0",  # no epoch can improve by 1: stops after the second
]


@pytest.mark.parametrize("extra", [[], STOP_EARLY])
def test_last_checkpoint_holds_the_weights_at_the_end_of_training(make_cfg, tmp_path, monkeypatch, extra):
    final = _FinalWeights()
    build_callbacks = train_module.build_callbacks
    monkeypatch.setattr(train_module, "build_callbacks", lambda *a: [*build_callbacks(*a), final])
    train(make_cfg("trainer.max_epochs=6", "++trainer.limit_train_batches=4", *extra, fast=False))
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["state_dict"].keys() == final.state.keys()
    for key, value in final.state.items():
        assert torch.equal(last["state_dict"][key], value), key
    epochs = json.loads((tmp_path / "metrics.json").read_text())["epochs"]
    assert last["epoch"] == epochs - 1 and (epochs < 6 if extra else epochs == 6)


# ---------------------------------------------------------------- default of each option has an effect
_RUNS: dict[tuple[str, ...], dict] = {}


def _short_run(tmp_path_factory, *overrides: str) -> dict:
    """Train 5 epochs on digits (cached per override list); statistics of the final weights."""
    if overrides not in _RUNS:
        out = tmp_path_factory.mktemp("run")
        GlobalHydra.instance().clear()
        with initialize_config_dir(str(CONF), version_base="1.3"):
            cfg = compose(
                "train",
                overrides=[
                    "trainer.accelerator=cpu",
                    "trainer.max_epochs=5",
                    "callbacks.progress_bar.refresh_rate=0",
                    "callbacks.diagnostics.every_n_steps=10",
                    f"paths.output_dir={out}",
                    *overrides,
                ],
            )
        metrics = train(cfg)
        record = json.loads((out / "metrics.json").read_text())
        state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
        weights = [v for k, v in state.items() if k.startswith("net.") and v.ndim >= 2]
        dm = build_datamodule(cfg)
        module = build_module(cfg, dm)
        module.load_state_dict(state)
        with torch.no_grad():
            probs = module.eval().predict(dm.val.x).softmax(-1)
        grads = tb_events.scalars(out, "z_diag/grad_norm/layer_01")
        _RUNS[overrides] = {
            "weight_norm": torch.sqrt(sum(w.pow(2).sum() for w in weights)).item(),
            "near_zero": sum((w.abs() < 1e-3).sum().item() for w in weights)
            / sum(w.numel() for w in weights),
            "confidence": probs.max(-1).values.mean().item(),
            "entropy": -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean().item(),
            "train_loss": metrics["train/loss"],
            "epochs": record["epochs"],
            "layer2_std_at_init": record["diagnostics_step0"]["z_diag/act_std/layer_02"],
            "layer1_grad_norm_in_training": sum(grads[1:]) / len(grads[1:]),
        }
    return _RUNS[overrides]


# option → (setting shared with its baseline, statistic, how it must compare to the baseline)
EFFECTS = {
    "weight_decay": ([], "weight_norm", lambda r, b: r < 0.99 * b),
    "weight_decay+sgd": (["optim=sgd"], "weight_norm", lambda r, b: r < 0.99 * b),
    "l1": ([], "near_zero", lambda r, b: r > 2 * b),
    "dropout": ([], "train_loss", lambda r, b: r > 2 * b),
    "alpha_dropout": (["activation=selu"], "train_loss", lambda r, b: r > 1.5 * b),
    "dropconnect": ([], "train_loss", lambda r, b: r > 2 * b),
    "batchnorm": (["init=normal", "init.std=0.01"], "layer2_std_at_init", lambda r, b: r > 10 * b),
    "label_smoothing": ([], "confidence", lambda r, b: r < b - 0.05),
    "confidence_penalty": ([], "entropy", lambda r, b: r > 1.1 * b),
    "mixup": ([], "confidence", lambda r, b: r < b - 0.02),
    "cutout": ([], "train_loss", lambda r, b: r > 2 * b),
    "stochastic_depth": (MODEL_FOR["stochastic_depth"], "train_loss", lambda r, b: r > 2 * b),
    "fractional_max_pool": (["model=cnn"], "train_loss", lambda r, b: r > 1.5 * b),
    "aux_classifier": ([], "layer1_grad_norm_in_training", lambda r, b: r > 1.05 * b),
    "early_stopping": (["trainer.max_epochs=40"], "epochs", lambda r, b: r < b),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(EFFECTS))
def test_the_default_of_each_regularizer_moves_its_statistic(tmp_path_factory, case):
    setting, statistic, moved = EFFECTS[case]
    option = case.split("+")[0]
    base = _short_run(tmp_path_factory, *setting)[statistic]
    value = _short_run(tmp_path_factory, *setting, f"regularization={option}")[statistic]
    assert moved(value, base), f"{statistic}: {option} {value:.4g} vs none {base:.4g}"


def test_every_regularization_option_has_an_effect_test():
    assert {c.split("+")[0] for c in EFFECTS} == set(REGULARIZERS) - {"none"}
