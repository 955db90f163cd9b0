"""A single run's config is composed once: Hydra's run takes over the preflight's composition, which
must be exactly what Hydra would have composed (job name included), and nothing else is taken over."""

import pytest
from hydra.types import RunMode
from omegaconf import OmegaConf

from ablation_lab.utils import cli
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.compose_once import take_back
from ablation_lab.utils.preflight import hydra_context
from ablation_lab.utils.progress_env import SWEEP_JOBS, SWEEP_START
from ablation_lab.utils.resolvers import register_resolvers

CHECK = "ablation_lab.build:check_config"


@pytest.fixture
def handed(monkeypatch, tmp_path):
    """What the command line handed over to Hydra's run (None: nothing)."""
    register_resolvers()
    monkeypatch.chdir(tmp_path)
    for name in (SWEEP_JOBS, SWEEP_START):  # what a sweep's command line sets, undone after
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    seen = {"cfg": None}
    real = cli.hand_over

    def spy(name, line, composed):
        seen["cfg"] = composed
        real(name, line, composed)

    monkeypatch.setattr(cli, "hand_over", spy)
    yield seen
    take_back()


@pytest.mark.parametrize(
    ("config", "task", "argv"),
    [
        ("train", "train", ["activation=gelu", "model.width=32", "regularization=[dropout,weight_decay]"]),
        ("train", "train", []),
        ("diagnose", "diagnose", ["init=xavier_normal"]),
    ],
)
def test_hydras_run_gets_the_preflights_config_and_it_is_what_hydra_composes(handed, config, task, argv):
    line, prints_only = cli._command_line(f"ablation-{task}", config, CHECK, argv, task)
    assert not prints_only and handed["cfg"] is not None
    with hydra_context(CONF_DIR, task_name=task) as hydra:  # as Hydra's main sets itself up
        first = hydra.compose_config(config, line, run_mode=RunMode.RUN, with_log_configuration=False)
        again = hydra.compose_config(config, line, run_mode=RunMode.RUN, with_log_configuration=False)
    assert first is handed["cfg"] and again is not first  # taken over once, then Hydra's own
    assert first.hydra.job.name == task
    assert OmegaConf.to_yaml(first) == OmegaConf.to_yaml(again)
    assert OmegaConf.is_readonly(first.hydra) == OmegaConf.is_readonly(again.hydra)


@pytest.mark.parametrize(
    "argv",
    [["-m", "activation=relu,gelu"], ["-m", "seed=0"], ["--cfg", "job"]],
)
def test_sweeps_and_printing_compose_as_hydra_does(handed, argv):
    cli._command_line("ablation-train", "train", CHECK, argv, "train")
    assert handed["cfg"] is None


def test_another_command_line_is_composed_by_hydra(handed):
    line, _ = cli._command_line("ablation-train", "train", CHECK, ["activation=gelu"], "train")
    with hydra_context(CONF_DIR) as hydra:
        other = hydra.compose_config("train", ["activation=tanh"], run_mode=RunMode.RUN)
        again = hydra.compose_config("train", line, run_mode=RunMode.RUN)
    assert other.activation.name == "tanh" and other is not handed["cfg"]
    assert again is not handed["cfg"]  # the hand-over ends with the first composition, whichever
