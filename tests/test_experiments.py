"""Every ready-made study composes, and every job of its sweep builds (model, data settings)."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from ablation_lab.build import check_config
from ablation_lab.utils.preflight import sweep_jobs
from ablation_lab.utils.resolvers import register_resolvers

CONF = Path(__file__).resolve().parents[1] / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
EXPECTED_JOBS = {
    "activations": 60,
    "inits": 60,
    "init_depth": 15,
    "regularizers": 65,
    "selu_dropout": 15,
    "dropout_rate": 30,
    "bn_dropout_order": 16,
    "preprocess": 27,
    "augment": 45,
    "small_data": 30,
    "fixup_vs_bn": 9,
    "quick_ablation": 12,
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_job_of_the_experiment_composes_and_builds(name):
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        jobs = sweep_jobs("train", [f"experiment={name}"])
        assert len(jobs) == EXPECTED_JOBS[name]
        distinct = {tuple(o for o in job if not o.startswith("seed=")): job for job in jobs}
        for job in distinct.values():  # the seed changes no check: each cell once
            check_config(compose("train", overrides=job))
    GlobalHydra.instance().clear()


def test_every_experiment_has_an_expected_job_count():
    assert set(EXPERIMENTS) == set(EXPECTED_JOBS)
