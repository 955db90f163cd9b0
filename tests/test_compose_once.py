"""A single run's config is composed once: Hydra's run takes over the preflight's composition, which
must be exactly what Hydra would have composed (job name and hydra.mode included), and nothing
else is taken over."""

import logging
import sys

import hydra
import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf

from ablation_lab.utils import cli, compose_once
from ablation_lab.utils.cli import CONF_DIR
from ablation_lab.utils.compose_once import RUN_MODE, take_back
from ablation_lab.utils.preflight import hydra_context
from ablation_lab.utils.progress_env import SWEEP_JOBS, SWEEP_START
from ablation_lab.utils.resolvers import register_resolvers

CHECK = "ablation_lab.build:check_config"


@pytest.fixture
def handed(monkeypatch, tmp_path):
    """What the command line handed over to Hydra's run (None: nothing), and how many configs
    Hydra composed itself."""
    register_resolvers()
    monkeypatch.chdir(tmp_path)
    for name in (SWEEP_JOBS, SWEEP_START):  # what a sweep's command line sets, undone after
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    seen = {"cfg": None, "hydras_own": 0}
    real_hand_over, real_load = cli.hand_over, compose_once._HYDRAS_OWN

    def spy(name, line, composed):
        seen["cfg"] = composed
        real_hand_over(name, line, composed)

    def counted(*args, **kwargs):
        seen["hydras_own"] += 1
        return real_load(*args, **kwargs)

    monkeypatch.setattr(cli, "hand_over", spy)
    monkeypatch.setattr(compose_once, "_HYDRAS_OWN", counted)
    yield seen
    take_back()


@pytest.fixture
def logging_as_it_was():
    """Hydra's main configures logging (conf/hydra/default.yaml's job_logging): undone after."""
    loggers = [logging.getLogger(n) for n in (None, "lightning.pytorch", "lightning.fabric", "py.warnings")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    yield
    for lg, handlers, level, propagate, disabled in saved:
        for handler in lg.handlers:
            if handler not in handlers:
                handler.close()
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled


def _as_hydras_run_does(hydra_app, config: str, line: list[str]):
    """Hydra's two compositions of one run (_run_hydra): get_mode, then run's with hydra.mode=RUN."""
    assert hydra_app.get_mode(config_name=config, overrides=line) is None
    return hydra_app.compose_config(config, [*line, RUN_MODE], run_mode=RunMode.RUN)


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
    with hydra_context(CONF_DIR, task_name=task) as app:  # as Hydra's main sets itself up
        first = _as_hydras_run_does(app, config, line)
        assert first is handed["cfg"] and handed["hydras_own"] == 0  # both answered, none composed
        again = _as_hydras_run_does(app, config, line)  # the hand-over is over: Hydra's own
    assert again is not first and handed["hydras_own"] == 2
    assert first.hydra.job.name == task and first.hydra.mode == RunMode.RUN
    assert OmegaConf.to_yaml(first) == OmegaConf.to_yaml(again)
    assert OmegaConf.is_readonly(first.hydra) == OmegaConf.is_readonly(again.hydra)


def test_the_run_hydra_starts_sees_the_same_config_and_writes_the_same_files(
    handed, logging_as_it_was, tmp_path, monkeypatch
):
    """Through Hydra's own main, as ablation-train runs: the same cfg, HydraConfig and .hydra files
    with the hand-over as without it, and with it Hydra composes nothing itself."""
    seen = []

    @hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
    def task(cfg):
        seen.append((OmegaConf.to_yaml(cfg), OmegaConf.to_yaml(HydraConfig.get())))

    argv = ["activation=tanh", "seed=3", f"hydra.run.dir={tmp_path}/run"]
    files = []
    for hand_over in (True, False):
        # Hydra names the task after the module of its function: this one's, here
        line, _ = cli._command_line("ablation-train", "train", CHECK, argv, __name__.rpartition(".")[2])
        if not hand_over:
            take_back()
        handed["hydras_own"] = 0
        monkeypatch.setattr(sys, "argv", ["ablation-train", *line])
        task()
        assert handed["hydras_own"] == (0 if hand_over else 2)
        files.append([(tmp_path / "run" / ".hydra" / f).read_text() for f in ("config.yaml", "hydra.yaml")])
    assert seen[0] == seen[1] and files[0] == files[1]
    assert "mode: RUN" in files[0][1] and "- hydra.mode=RUN" in files[0][1]


@pytest.mark.parametrize("argv", [["-m", "activation=relu,gelu"], ["-m", "seed=0"], ["--cfg", "job"]])
def test_sweeps_and_printing_compose_as_hydra_does(handed, argv):
    cli._command_line("ablation-train", "train", CHECK, argv, "train")
    assert handed["cfg"] is None


def test_another_command_line_is_composed_by_hydra(handed):
    line, _ = cli._command_line("ablation-train", "train", CHECK, ["activation=gelu"], "train")
    with hydra_context(CONF_DIR) as app:
        other = app.compose_config("train", ["activation=tanh"], run_mode=RunMode.RUN)
        again = _as_hydras_run_does(app, "train", line)
    assert other.activation.name == "tanh" and other is not handed["cfg"]
    assert again is not handed["cfg"]  # the hand-over ends with the first call that is not its own
