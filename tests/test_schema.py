"""The config schema (config/schema.py): complete for every option of every group, in agreement with
the registries it names without importing them, and its knob kinds refuse what they should."""

import inspect
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from ablation_lab.config.knobs import Float, Int, Names, Probability
from ablation_lab.config.schema import AUGMENTATIONS, DATASETS, PREPROCESSINGS, TRAINER_ARGS, TTA, known
from ablation_lab.config.validate import validate
from ablation_lab.errors import ConfigError

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ["data", "model", "activation", "init", "regularization", "optim", "trainer", "callbacks", "logger"]


@pytest.mark.parametrize(
    "option", [f"{g}={p.stem}" for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
)
def test_every_option_of_every_group_passes_the_schema(option):
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        extra = ["init.path=README.md"] if option == "init=pretrained" else []
        cfg = compose("train", overrides=[option, *extra], return_hydra_config=True)
    GlobalHydra.instance().clear()
    needs = {
        "init=pretrained": "init.path='README.md' is not a checkpoint",
        "data=image_folder": "data=image_folder needs data.root=<folder",
        "data=npz": "data=npz needs data.path=<file.npz>",
    }
    if option in needs:
        with pytest.raises(ConfigError, match=needs[option]):
            validate(cfg)
    else:
        validate(cfg)


def test_registered_names_match_the_registries():
    from ablation_lab.data.sources import SOURCES
    from ablation_lab.techniques.augmentation import OPS, PRESETS
    from ablation_lab.techniques.augmentation import TTA as TTA_VIEWS
    from ablation_lab.techniques.preprocessing import PREPROCESSORS

    assert set(DATASETS) == set(SOURCES)
    assert set(PREPROCESSINGS) == set(PREPROCESSORS)
    assert set(AUGMENTATIONS) == set(OPS) | set(PRESETS)
    assert set(TTA) == set(TTA_VIEWS)


def test_trainer_arguments_are_lightnings():
    import lightning as L

    assert TRAINER_ARGS <= set(inspect.signature(L.Trainer.__init__).parameters)
    assert known("trainer.gradient_clip_algorithm") and not known("trainer.max_epoch")


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (Int(1), "abc", "k='abc' must be an integer ≥ 1"),
        (Int(1), 1.5, "k=1.5 must be an integer ≥ 1"),
        (Int(1), True, "k=True must be an integer ≥ 1"),
        (Int(1), 0, "k=0 is out of range; it must be ≥ 1"),
        (Float(0.0, low_open=True), -1, "k=-1 is out of range; it must be > 0"),
        (Float(0.0, low_open=True), float("nan"), "k=nan is out of range"),
        (Probability(), 1.0, r"k=1.0 is out of range; it must lie in \[0.0, 1.0\)"),
        (Names("a", "b"), ["a", "c"], "unknown k 'c'; choose one of: a, b"),
        (Int(1), None, "k is missing; it must be an integer ≥ 1"),
    ],
)
def test_knob_kinds_refuse_with_one_line_naming_key_value_and_range(spec, value, message):
    with pytest.raises(ConfigError, match=message):
        spec.check("k", value)


def test_knob_kinds_convert_what_they_accept():
    assert Float(0.0).check("k", 3) == 3.0 and isinstance(Float(0.0).check("k", 3), float)
    assert Int(1, nullable=True).check("k", None) is None
    assert Names("a", "b").check("k", ["a", "b"]) == ["a", "b"]
