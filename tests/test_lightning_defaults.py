"""What Lightning runs when the config leaves a kind of callback out: none of its own defaults.

Lightning adds a progress bar (redrawn every step), a model summary and a ModelCheckpoint of its
own naming wherever the trainer's callbacks hold none; `callbacks=none`, `callbacks.progress_bar=null`
or `checkpoints=none` mean none. Lightning's own switches (`+trainer.enable_progress_bar=false`)
drop the lab's callback of that kind instead of failing inside the run. Checked on the trainer
a real `train()` builds.
"""

import lightning as L
import pytest
from conftest import CONF_DIR, FAST
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from lightning.pytorch.callbacks import ModelCheckpoint, ModelSummary, ProgressBar

from ablation_lab.train import train
from ablation_lab.utils.resolvers import register_resolvers

KINDS = {"bar": ProgressBar, "summary": ModelSummary, "checkpoint": ModelCheckpoint}
# FAST less its settings of the callbacks group, which callbacks=none removes
QUICK = [o for o in FAST if not o.startswith("callbacks.")]


@pytest.fixture
def fitted_callbacks(tmp_path, monkeypatch):
    """fitted_callbacks(*overrides) → the kinds of callback the trainer of a real run held."""
    register_resolvers()
    seen: list = []
    fit = L.Trainer.fit

    def recording_fit(trainer, *args, **kwargs):
        held = trainer.callbacks
        seen.append({kind for kind, cls in KINDS.items() if any(isinstance(c, cls) for c in held)})
        return fit(trainer, *args, **kwargs)

    monkeypatch.setattr(L.Trainer, "fit", recording_fit)

    def run(*overrides: str) -> set[str]:
        GlobalHydra.instance().clear()
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=[*QUICK, f"paths.output_dir={tmp_path}", *overrides])
        train(cfg)
        GlobalHydra.instance().clear()
        return seen.pop()

    return run


@pytest.mark.parametrize(
    ("overrides", "kinds"),
    [
        ([], {"bar", "summary", "checkpoint"}),
        (["callbacks=none"], {"checkpoint"}),
        (["callbacks=none", "checkpoints=none"], set()),
        (["callbacks.progress_bar=null"], {"summary", "checkpoint"}),
        (["callbacks.model_summary=null", "checkpoints=none"], {"bar"}),
        (["+trainer.enable_progress_bar=false"], {"summary", "checkpoint"}),
        (["+trainer.enable_model_summary=false"], {"bar", "checkpoint"}),
        (["+trainer.enable_checkpointing=false", "checkpoints=none"], {"bar", "summary"}),
        # a switch given in the config is Lightning's to honour: its own default bar
        (["callbacks.progress_bar=null", "+trainer.enable_progress_bar=true"], set(KINDS)),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_the_trainer_holds_only_the_callbacks_the_config_asks_for(fitted_callbacks, overrides, kinds):
    assert fitted_callbacks(*overrides) == kinds


def test_callbacks_none_prints_no_bar_and_no_summary(fitted_callbacks, capfd):
    fitted_callbacks("callbacks=none", "checkpoints=none")
    out = "".join(capfd.readouterr())
    assert "Epoch 0" not in out and "Trainable params" not in out and "Testing" not in out
