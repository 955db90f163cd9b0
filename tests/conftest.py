"""Shared fixtures: compose the real config from conf/ with fast, CPU-only, temp-folder overrides."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from ablation_lab.utils.resolvers import register_resolvers

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
# Each model, small enough for one-batch smoke fits.
SMALL_MODELS = {
    "mlp": ["model=mlp", "model.width=32"],
    "cnn": ["model=cnn", "model.channels=[8,16]"],
    "resnet": ["model=resnet", "model.depth=8", "model.width=8"],
    "plain_deep": ["model=plain_deep", "model.depth=4", "model.width=16"],
}
FAST = [
    "trainer.accelerator=cpu",
    "trainer.max_epochs=1",
    "++trainer.limit_train_batches=1",
    "++trainer.limit_val_batches=1",
    "++trainer.limit_test_batches=1",
    "callbacks.model_summary.max_depth=0",
    "callbacks.progress_bar.refresh_rate=0",
]


@pytest.fixture
def make_cfg(tmp_path):
    """make_cfg(*overrides, fast=True) → the composed train config writing into tmp_path."""
    register_resolvers()

    def make(*overrides: str, fast: bool = True):
        GlobalHydra.instance().clear()
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            extra = FAST if fast else ["trainer.accelerator=cpu", "callbacks.progress_bar.refresh_rate=0"]
            return compose(
                "train",
                overrides=[
                    *extra,
                    f"paths.output_dir={tmp_path}",
                    f"paths.data_dir={tmp_path}/data",
                    *overrides,
                ],
            )

    yield make
    GlobalHydra.instance().clear()
