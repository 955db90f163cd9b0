"""Several devices, correct, in pieces (no process group needed): the loader's shards, the command
line of a DDP child, what the run forgets after its DDP launch, each rank's random state, which
process is rank 0, the trainer's strategy and precision, the presets."""

import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf, open_dict

from ablation_lab.config.validate import validate
from ablation_lab.data import loader as loader_module
from ablation_lab.data.loader import BatchLoader
from ablation_lab.module import own_row
from ablation_lab.utils import ddp, devices, rank_zero
from ablation_lab.utils.cli import CONF_DIR


def _epoch(rank: int, world: int, n: int, batch: int, epoch: int = 0) -> list[torch.Tensor]:
    x = torch.arange(n).view(n, 1)
    loader = BatchLoader(x, x.view(n), batch, shuffle=True, seed=3, epoch=lambda: epoch, shard=(rank, world))
    return [y for _, y in loader]


@pytest.mark.parametrize("n", [64, 67])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_training_shards_are_disjoint_equal_in_steps_and_cut_from_the_one_permutation(n, world):
    shards = [_epoch(rank, world, n, batch=8) for rank in range(world)]
    assert len({len(s) for s in shards}) == 1  # every rank the same number of steps
    seen = torch.cat([torch.cat(s) for s in shards])
    assert len(seen) == n - n % world and len(set(seen.tolist())) == len(seen)  # each image at most once
    order = torch.cat(_epoch(0, 1, n, batch=n))  # the one (seed, epoch) permutation
    together = torch.stack([torch.cat(s) for s in shards], 1).flatten()
    assert torch.equal(together, order[: len(together)])  # the ranks' batches interleave it
    assert not torch.equal(torch.cat(_epoch(0, world, n, 8, epoch=1)), torch.cat(shards[0]))


@pytest.mark.parametrize("n", [11, 512, 513])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_evaluation_shards_count_every_image_exactly_once(n, world):
    x = torch.arange(n).view(n, 1)
    seen = [y for rank in range(world) for _, y in BatchLoader(x, x.view(n), 4, shard=(rank, world))]
    assert torch.equal(torch.cat(seen), torch.arange(n))


def test_the_loader_shards_by_the_process_group_when_not_told(monkeypatch):
    x = torch.arange(10).view(10, 1)
    monkeypatch.setattr(loader_module, "process_group", lambda: (1, 2))
    assert torch.equal(torch.cat([y for _, y in BatchLoader(x, x.view(10), 4)]), torch.arange(5, 10))
    assert len(BatchLoader(x, x.view(10), 4, shuffle=True)) == 2


def test_a_ddp_child_runs_its_sweep_cell_as_a_single_run_in_the_cells_folder():
    argv = ["-m", "--config-name", "train", "seed=0,1", "trainer=ddp", "hydra.sweep.dir=/s"]
    folder = "/s/001_seed=1,it's"
    command = ddp.child_command(["py", "ablation-train"], argv, ["seed=1", "trainer=ddp"], folder, 1)
    assert command[:4] == ["py", "ablation-train", "--config-name", "train"]
    assert command[4:6] == ["seed=1", "trainer=ddp"] and "-m" not in command
    assert not any(a.startswith("hydra.sweep.dir") or a == "seed=0,1" for a in command)
    run_dir = OverridesParser.create().parse_override(command[6])
    assert run_dir.key_or_group == "hydra.run.dir" and run_dir.value() == folder
    assert command[7:] == ["hydra.job.name=train_ddp_process_1", "hydra.output_subdir=null"]


def test_after_a_run_this_process_forgets_the_ddp_launch(monkeypatch):
    from lightning.fabric.strategies.launchers import subprocess_script as fabric
    from lightning.pytorch.strategies.launchers import subprocess_script as trainer

    originals = trainer._hydra_subprocess_cmd, fabric._hydra_subprocess_cmd
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.setenv("MASTER_ADDR", "before")
    with ddp.ddp_processes(SimpleNamespace(strategy=None), sweep=True):
        assert trainer._hydra_subprocess_cmd is fabric._hydra_subprocess_cmd is ddp._hydra_child
        assert os.environ[ddp.SWEEP_CELL] == "1"
        os.environ.update(LOCAL_RANK="0", MASTER_ADDR="127.0.0.1")  # as Lightning's launcher leaves them
    assert (trainer._hydra_subprocess_cmd, fabric._hydra_subprocess_cmd) == originals
    assert "LOCAL_RANK" not in os.environ and os.environ["MASTER_ADDR"] == "before"
    assert ddp.SWEEP_CELL not in os.environ


def test_each_rank_restores_its_own_generator_state():
    states = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        states.append(torch.get_rng_state())
    saved = torch.stack(states)
    torch.set_rng_state(own_row(saved, 1))  # a row view would crash torch 2.14: own_row copies
    draw = torch.rand(3)
    torch.manual_seed(2)
    assert torch.equal(draw, torch.rand(3))
    assert own_row(saved, 2) is None and own_row(states[0], 5) is states[0] and own_row(None, 0) is None


@pytest.mark.parametrize(
    ("env", "rank"),
    [
        ({}, 0),
        ({"LOCAL_RANK": "1"}, 1),
        ({"LOCAL_RANK": "0", "NODE_RANK": "1"}, 1),
        ({"SLURM_PROCID": "3"}, 3),
    ],
)
def test_rank_zero_is_told_by_the_launchers_variables(monkeypatch, env, rank):
    for name in rank_zero.RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert rank_zero.rank() == rank and rank_zero.is_rank_zero() == (rank == 0)


def test_a_failing_rank_above_0_records_its_error_unless_rank_0_recorded_one(make_cfg, tmp_path, monkeypatch):
    import json

    from ablation_lab.utils.run_files import write_metrics

    def fit(cfg):
        raise ValueError("boom")

    monkeypatch.setenv("LOCAL_RANK", "1")
    cfg = make_cfg()
    for status, error in (("running", "rank 1: ValueError: boom"), ("failed", "rank 0's")):
        write_metrics(tmp_path, {}, {}, {"status": status, "error": "rank 0's"})
        with pytest.raises(SystemExit) as exit_:
            rank_zero.run("ablation-train", cfg, fit, [])
        record = json.loads((tmp_path / "metrics.json").read_text())
        assert exit_.value.code == 1 and (record["status"], record["error"]) == ("failed", error)


def _cfg(*overrides: str, hydra: bool = False):
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=hydra)
    GlobalHydra.instance().clear()
    return cfg


def test_the_ddp_preset_is_plain_ddp_with_the_timeout_and_keeps_its_devices():
    cfg = _cfg("trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=3", "ddp_timeout_s=60")
    validate(cfg)
    options = devices.trainer_options(cfg, sweep=False, launcher=None)
    assert type(options["strategy"]).__name__ == "DDPStrategy" and "devices" not in options
    assert options["strategy"]._timeout == timedelta(seconds=60)
    assert options["strategy"]._process_group_backend is None  # Lightning picks nccl or gloo
    validate(_cfg("trainer.strategy=ddp", "trainer.devices=2"))  # no '+': a key of every trainer


def test_bf16_mixed_falls_back_to_16_mixed_on_a_gpu_without_bfloat16(monkeypatch):
    cfg = _cfg("trainer=gpu")
    assert cfg.trainer.precision == "bf16-mixed" and cfg.trainer.benchmark is True
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert devices.precision(cfg) == "16-mixed"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert devices.precision(cfg) == "bf16-mixed"


def test_training_metrics_skip_the_per_step_argument_checks(make_cfg):
    from ablation_lab.build import build_datamodule, build_module

    cfg = make_cfg()
    module = build_module(cfg, build_datamodule(cfg))
    assert not any(m.validate_args for m in (module.val_acc, module.test_acc))


def test_the_slurm_preset_asks_for_a_task_per_device_on_every_node(tmp_path, monkeypatch):
    import submitit
    from hydra.utils import instantiate

    overrides = ["hydra/launcher=submitit_slurm", "trainer=ddp", "trainer.accelerator=gpu"]
    cfg = _cfg(
        *overrides, "trainer.devices=4", "trainer.num_nodes=2", f"hydra.sweep.dir={tmp_path}", hydra=True
    )
    with open_dict(cfg):
        cfg.hydra.job.name = "train"  # set by Hydra when a run starts
    launcher = instantiate(OmegaConf.to_container(cfg.hydra.launcher, resolve=True))
    launcher.config = cfg
    scripts = []

    def write_script_instead_of_submitting(self, fn, *args):
        scripts.append(self._executor._make_submission_file_text("python -u -m submitit.core._submit", "uid"))
        return []

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", write_script_instead_of_submitting)
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 1))  # as if srun existed
    launcher.launch([["seed=0"]], initial_job_idx=0)
    (script,) = scripts
    for line in ("#SBATCH --ntasks-per-node=4", "#SBATCH --nodes=2", "#SBATCH --gpus-per-node=4"):
        assert line in script, line
