"""Bad input of every kind is refused before anything runs or is written: one line that names the
value and what is valid. In-process through the CLIs' preflight (fast, every case), and through
the real commands in a subprocess (one case of each class: exit status 2, no traceback, logs/
untouched, no payload run)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ablation_lab.errors import ConfigError
from ablation_lab.utils.cli import CONF_DIR, quote_paths
from ablation_lab.utils.preflight import preflight

import bad_files

BIN = Path(sys.executable).parent
TRAIN = "ablation_lab.build:check_config"
EVAL = "ablation_lab.eval:check_eval"

# (command-line overrides, what the one line must say); `{tmp}` is the test's folder
BAD_TRAIN = [
    # environment variables that run code in the run's processes
    (["+hydra.job.env_set.PYTHONSTARTUP=x"], "hydra.job.env_set.PYTHONSTARTUP is refused"),
    # types
    (["trainer.max_epochs=abc"], "trainer.max_epochs='abc' must be an integer ≥ 1"),
    (["trainer.max_epochs=1.5"], "trainer.max_epochs=1.5 must be an integer ≥ 1"),
    (["data.batch_size=1.5"], "data.batch_size=1.5 must be an integer ≥ 1"),
    (["optim.optimizer.lr=abc"], "optim.optimizer.lr='abc' must be a number > 0"),
    (
        ["activation=leaky_relu", "activation.negative_slope=abc"],
        "activation.negative_slope='abc' must be a number in [0, 1]",
    ),
    (["seed=abc"], "seed='abc' must be an integer"),
    (
        ["regularization=dropout", "regularization.dropout.inverted=maybe"],
        "regularization.dropout.inverted='maybe' must be true or false",
    ),
    (["model=cnn", "model.channels=abc"], "model.channels='abc' must be a list of integers ≥ 1"),
    # ranges
    (["data.batch_size=0"], "data.batch_size=0 is out of range; it must be ≥ 1"),
    (["data.batch_size=-1"], "data.batch_size=-1 is out of range"),
    (["optim.optimizer.lr=-1"], "optim.optimizer.lr=-1 is out of range; it must be > 0"),
    (["optim.optimizer.lr=0"], "optim.optimizer.lr=0 is out of range; it must be > 0"),
    (
        ["optim=sgd", "optim.optimizer.momentum=-1"],
        "optim.optimizer.momentum=-1 is out of range; it must lie in [0.0, 1.0)",
    ),
    (["seed=-1"], "seed=-1 is out of range"),
    (["init=uniform", "init.a=-1"], "init.a=-1 is out of range; it must be > 0"),
    (["init=normal", "init.std=0"], "init.std=0 is out of range; it must be > 0"),
    (["data.whiten_eps=-1"], "data.whiten_eps=-1 is out of range; it must be > 0"),
    (["data.val_fraction=1.0"], "data.val_fraction=1.0 is out of range; it must lie in (0.0, 1.0)"),
    (["data.val_fraction=0"], "data.val_fraction=0 is out of range; it must lie in (0.0, 1.0)"),
    (["data.train_fraction=0"], "data.train_fraction=0 is out of range; it must lie in (0.0, 1.0]"),
    (["trainer.max_epochs=-5"], "trainer.max_epochs=-5 is out of range; it must be ≥ 1"),
    (["model.width=0"], "model.width=0 is out of range"),
    (
        ["regularization=dropout", "regularization.dropout.p=1.5"],
        "regularization.dropout.p=1.5 is out of range",
    ),
    (
        ["regularization=mixup", "regularization.mixup.alpha=0"],
        "regularization.mixup.alpha=0 is out of range",
    ),
    (
        ["model=resnet", "regularization=stochastic_depth", "regularization.stochastic_depth.p_last=0"],
        "regularization.stochastic_depth.p_last=0 is out of range; it must lie in (0.0, 1.0]",
    ),
    (
        ["callbacks.diagnostics.every_n_steps=0"],
        "callbacks.diagnostics.every_n_steps=0 is out of range; it must be ≥ 1",
    ),
    (
        ["regularization=cutout", "regularization.cutout.size=100"],
        "regularization.cutout.size=100 is larger than the 8×8 images of digits",
    ),
    (["data.test_fraction=0.9"], "data.val_fraction=0.15 + data.test_fraction=0.9 leave no training images"),
    (["data.train_size=5"], "data.train_size=5 leaves 5 training images, fewer than the 10 classes"),
    (["data.train_size=100000"], "data.train_size=100000 but digits has 1168 training images"),
    # references and combinations
    (
        ["regularization=early_stopping", "regularization.early_stopping.monitor=val/bogus"],
        "unknown regularization.early_stopping.monitor 'val/bogus'; choose one of: val/acc, val/loss",
    ),
    (
        ["regularization=early_stopping", "regularization.early_stopping.monitor=val/loss"],
        "mode=max with monitor=val/loss: a loss improves down; set regularization.early_stopping.mode=min",
    ),
    (["init=pretrained"], "init=pretrained needs init.path=<run>/checkpoints/last.ckpt"),
    (["init=pretrained", "init.path=README.md"], "init.path='README.md' is not a checkpoint"),
    (["init=pretrained", "init.path=nope.ckpt"], "init.path='nope.ckpt' is not a file"),
    (
        ["init=pretrained", "init.path={tmp}/evil.ckpt"],
        "holds objects other than tensors and plain containers; refused",
    ),
    (["activation=relux"], "unknown activation 'relux'; choose one of: elu, gelu"),
    (["model.dept=3"], "unknown key 'model.dept'; model has: depth, name, width"),
    (["+model.dept=3"], "unknown key 'model.dept'; model has: depth, name, width"),
    (["data=mnist", "data.root=no/such/dir"], "data.root='no/such/dir' does not exist"),
    (["model=resnet", "model.depth=21"], "model.depth=21 is not 6n+2"),
    (["regularization=stochastic_depth"], "regularization=stochastic_depth needs residual blocks"),
    (["model=resnet", "init=fixup"], "init=fixup needs model=resnet with model.norm=none"),
    (
        ["optim=sgd", "regularization=weight_decay", "regularization.weight_decay.decoupled=true"],
        "needs a decoupled optimizer (optim=adamw), not optim=sgd",
    ),
    (
        ["regularization=[alpha_dropout,dropout]"],
        "regularization=[alpha_dropout,dropout]: choose one of the two",
    ),
    (["regularization=aux_classifier", "model.depth=1"], "needs at least 2 hidden blocks"),
    (["trainer.accelerator=tpux"], "unknown trainer.accelerator 'tpux'; choose one of: auto, cpu, gpu"),
    # code that a config would run
    (
        ["+callbacks.x._target_=torch.load", "+callbacks.x.f=evil.ckpt", "+callbacks.x.weights_only=false"],
        "callbacks.x._target_=torch.load is not allowed",
    ),
    (
        ["+callbacks.x._target_=shutil.copyfile", "+callbacks.x.src=a", "+callbacks.x.dst=b"],
        "callbacks.x._target_=shutil.copyfile is not allowed",
    ),
    (
        ["+hydra.callbacks.x._target_=os.system", "+hydra.callbacks.x.command=ls"],
        "hydra.callbacks.x._target_=os.system is not allowed",
    ),
    (
        ["model._target_=builtins.eval"],
        "model._target_=builtins.eval is not allowed (allowed there: classes from ablation_lab.models.)",
    ),
    # a target is checked by what it resolves to, not by how its name starts
    (
        ["+callbacks.x._target_=ablation_lab.diagnostics.callback.torch.load", "+callbacks.x.f=evil.ckpt"],
        "resolves to torch.serialization.load, which is not a class",
    ),
    (
        [
            "+callbacks.x._target_=lightning.pytorch.callbacks.model_checkpoint.os.system",
            "+callbacks.x.command=ls",
        ],
        "which is not a class",
    ),
    (["trainer._target_=lightning.pytorch.trainer.trainer.os.system"], "resolves to posix.system"),
    (["+logger.x._target_=lightning.pytorch.loggers.tensorboard.os.system"], "which is not a class"),
    (["+callbacks.x._target_=ablation_lab.report.callback.SweepReport"], "which is not a lightning"),
    (["optim.optimizer._target_=torch.optim.lr_scheduler.LambdaLR"], "which is not a torch.optim"),
    (["+callbacks.x=${hydra:launcher}"], "callbacks.x._target_=hydra._internal.core_plugins"),
    (
        [
            "+callbacks.x._target_=lightning.pytorch.callbacks.LambdaCallback",
            "+callbacks.x.on_fit_start._target_=torch.load",
        ],
        "callbacks.x.on_fit_start._target_=torch.load is not allowed",
    ),
    (["+callbacks.x='${oc.decode:\"{_target_: torch.load}\"}'"], "builds config from a string"),
    # logging sections name no code and open no file
    (
        ["+hydra.job_logging.handlers.y={\\(\\):ablation_lab.diagnostics.callback.torch.load,f:evil.ckpt}"],
        "hydra.job_logging.handlers.y.()=ablation_lab.diagnostics.callback.torch.load is refused",
    ),
    (
        ["+hydra.hydra_logging.handlers.y={\\(\\):torch.save,obj:1,f:RAN}"],
        "hydra.hydra_logging.handlers.y.()=torch.save is refused",
    ),
    (["+hydra.job_logging.formatters.z={\\(\\):os.system}"], "a formatter may not name a factory"),
    (
        ["+hydra.job_logging.handlers.z={class:logging.handlers.SocketHandler,host:x,port:1}"],
        "handlers may be",
    ),
    (["+hydra.job_logging.handlers.z={class:logging.FileHandler,filename:/tmp/x.log}"], "a log file is"),
    (["+hydra.job_logging.handlers.file.mode=w"], "never truncated"),
    (["hydra.job_logging.handlers.console.stream=ext://os.system"], "a stream is one of"),
    (["+hydra.job_logging.filters.z={name:x}"], "filters name code"),
    (["hydra.job_logging.root.level=LOUD"], "unknown log level"),
    # what can be known before a run, refused before it
    (["model.width=1000000"], "training needs ~"),
    (["~data"], "~data: data cannot be removed"),
    (["~trainer"], "~trainer: trainer cannot be removed"),
    (["~model.width"], "~model.width: model.width cannot be removed"),
    (["~optim.optimizer.lr"], "~optim.optimizer.lr: optim.optimizer.lr cannot be removed"),
    (["~optim.optimizer._target_"], "an entry keeps its _target_; remove the whole entry (~optim.optimizer)"),
    (["~callbacks.diagnostics._target_"], "an entry keeps its _target_"),
    (["~optim.scheduler._partial_"], "an entry keeps its _partial_"),
    (["regularization=batchnorm", "data.batch_size=1"], "data.batch_size=1 with batch norm"),
    (["model=resnet", "model.depth=8", "data.batch_size=1"], "data.batch_size=1 with batch norm"),
    (["trainer.accelerator=cpu", "trainer.devices=4096"], "trainer.devices=4096 but this machine has"),
    (["trainer.precision=16-true"], "16-true with AdamW's eps=1e-08: below float16's smallest normal"),
    (["trainer.precision=16-true", "+optim.optimizer.eps=1e-7"], "AdamW's eps=1e-07: below float16's"),
    (["-m", "trainer.precision=32-true,16-true"], "16-true with AdamW's eps=1e-08"),
    # a class gets only the arguments it takes, and those it needs, before the run folder exists
    (
        ["optim.optimizer._target_=torch.optim.RMSprop"],
        "RMSprop takes no argument 'betas', 'fused' (it takes: lr, alpha, eps,",
    ),
    (["+optim.optimizer.momentumm=0.9", "optim=sgd"], "optim.optimizer.momentumm: SGD takes no argument"),
    (["optim.scheduler._target_=torch.optim.lr_scheduler.StepLR"], "StepLR takes no argument 'T_max'"),
    (["+callbacks.progress_bar.refresh=3"], "callbacks.progress_bar.refresh: TQDMProgressBar takes no"),
    (["+callbacks.diagnostics.every=5"], "callbacks.diagnostics.every: Diagnostics takes no argument"),
    (["paths.log_dir=/proc/x"], "paths.log_dir='/proc/x' is under /proc"),
    (["hydra.run.dir=/proc/self/y"], "is under /proc"),
    (["paths.log_dir=" + "a" * 5000], "is too long"),
    (["hydra.run.dir=" + "b/" * 2500], "is too long"),
    (["hydra.sweep.dir={tmp}/README.md"], "is a file, not a folder"),
    (["hydra.run.dir={tmp}"], "holds files that ablation-lab did not write"),
    (["hydra.sweep.dir={tmp}"], "holds files that ablation-lab did not write"),
    # the run folder is Hydra's: paths.output_dir resolving anywhere else would split a run in two
    (["paths.output_dir={tmp}/elsewhere"], "paths.output_dir='{tmp}/elsewhere' is not the run's folder"),
    (["paths.output_dir=${paths.log_dir}"], "paths.output_dir='${paths.log_dir}' is not the run's folder"),
    (["paths.output_dir=${hydra:run.dir}/x"], "is not the run's folder"),
    (["paths.output_dir=${hydra:runtime.cwd}"], "is not the run's folder"),
    (
        ["paths.data_dir=${hydra:runtime.output_dir}/c", "paths.output_dir=${paths.data_dir}"],
        "is not the run's folder",
    ),
    (["-m", "paths.output_dir=${hydra:runtime.output_dir},{tmp}/b"], "is not the run's folder"),
    # Lightning's checkpoint switch against the lab's policy (Lightning failed inside the run)
    (["+trainer.enable_checkpointing=false"], "trainer.enable_checkpointing=false with checkpoints=auto"),
    (
        ["+trainer.enable_checkpointing=False", "checkpoints=last"],
        "trainer.enable_checkpointing=false with checkpoints=last: a run's checkpoints follow `checkpoints`",
    ),
    (["+trainer.enable_checkpointing=true", "checkpoints=none"], "set checkpoints=last (or auto, both"),
    (["-m", "checkpoints=best,none", "+trainer.enable_checkpointing=true"], "with checkpoints=none"),
    (["+trainer.enable_progress_bar=0"], "trainer.enable_progress_bar=0"),
    (["+trainer.enable_model_summary=no"], "trainer.enable_model_summary"),
    # Lightning runs one progress bar (it failed inside the run): any ProgressBar, under any key
    (
        ["+callbacks.rich={_target_:lightning.pytorch.callbacks.RichProgressBar}"],
        "callbacks.progress_bar (TQDMProgressBar) and callbacks.rich (RichProgressBar): Lightning runs one",
    ),
    (
        ["+callbacks.bar={_target_:lightning.pytorch.callbacks.TQDMProgressBar}"],
        "set callbacks.progress_bar=null",
    ),
    # one saved state per state key (Lightning failed inside the run): the user's entry is named
    (
        ["+callbacks.ckpt={_target_:lightning.pytorch.callbacks.ModelCheckpoint}"],
        "callbacks.ckpt (ModelCheckpoint) saves its state under the same key as checkpoints=auto's",
    ),
    (
        [
            "checkpoints=best",
            "+callbacks.b={_target_:lightning.pytorch.callbacks.ModelCheckpoint,monitor:val/acc,mode:max}",
        ],
        "callbacks.b (ModelCheckpoint) saves its state under the same key as checkpoints=best's",
    ),
    (
        [
            "regularization=early_stopping",
            "+callbacks.es={_target_:lightning.pytorch.callbacks.EarlyStopping,monitor:val/acc,mode:max}",
        ],
        "callbacks.es (EarlyStopping) saves its state under the same key as regularization=early_stopping's",
    ),
    # Hydra's grammar, in words
    (["model.width=[1,"], "cannot read the override 'model.width=[1,'"),
    (["=3"], "it names no key"),
    # sweeps: every job is checked before the first one runs
    (["data.batch_size=64,0"], "data.batch_size=0 is out of range"),
    (["data.batch_size=64,32,0", "seed=range(0,250)"], "data.batch_size=0 is out of range"),
    (["activation=relu,relux"], "unknown activation 'relux'"),
    (
        ["-m", "experiment=dropout_rate", "regularization.dropout.p=0.2,1.2"],
        "regularization.dropout.p=1.2 is out of range",
    ),
]


CLASH_WITH_BEST = (
    "+callbacks.best={_target_:lightning.pytorch.callbacks.ModelCheckpoint,monitor:val/acc,mode:max}"
)


def test_a_clash_with_a_single_runs_best_checkpoint_is_refused_there_and_not_in_a_sweep(
    monkeypatch, tmp_path
):
    # checkpoints=auto: best and last for a run on its own, last only for a sweep's cell (where it works)
    from ablation_lab.utils.cli import _command_line
    from ablation_lab.utils.progress_env import SWEEP_JOBS, SWEEP_START

    monkeypatch.chdir(tmp_path)
    for variable in (SWEEP_JOBS, SWEEP_START):  # the sweep's line sets them: restored after
        monkeypatch.setenv(variable, "")
    check = "ablation_lab.build:check_config"
    with pytest.raises(ConfigError) as refused:
        _command_line("ablation-train", "train", check, [CLASH_WITH_BEST], "train")
    assert str(refused.value).startswith(
        "callbacks.best (ModelCheckpoint) saves its state under the same key as"
    )
    argv, _ = _command_line("ablation-train", "train", check, ["-m", CLASH_WITH_BEST, "seed=0,1"], "train")
    assert "-m" in argv or "--multirun" in argv


@pytest.fixture
def bad_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("# not a checkpoint\n")
    bad_files.malicious_checkpoint(tmp_path / "evil.ckpt", tmp_path / "PAYLOAD_RAN")
    return tmp_path


def _args(args: list[str], tmp: Path) -> list[str]:
    return quote_paths([a.replace("{tmp}", str(tmp)) for a in args if a != "-m"])


@pytest.mark.parametrize(("args", "message"), BAD_TRAIN, ids=[" ".join(a) for a, _ in BAD_TRAIN])
def test_bad_train_input_is_refused_in_one_line(bad_dir, args, message):
    with pytest.raises(ConfigError) as refused:
        preflight(CONF_DIR, "train", _args(args, bad_dir), TRAIN)
    line = str(refused.value)
    assert message.replace("{tmp}", str(bad_dir)) in line and "\n" not in line
    assert not (bad_dir / "PAYLOAD_RAN").exists()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["paths.output_dir=${hydra:runtime.output_dir}"],
        ["hydra.run.dir={tmp}/new", "paths.output_dir=${hydra:runtime.output_dir}"],
        ["trainer.precision=16-true", "optim=sgd"],  # SGD has no eps
        ["trainer.precision=16-true", "+optim.optimizer.eps=1e-4"],
        ["trainer.precision=bf16-true"],  # bfloat16 holds 1e-08
        ["optim=sgd", "optim.optimizer.momentum=0.5"],
        ["optim.optimizer._target_=torch.optim.RMSprop", "~optim.optimizer.betas", "~optim.optimizer.fused"],
        [
            "optim.scheduler._target_=torch.optim.lr_scheduler.StepLR",
            "~optim.scheduler.T_max",
            "+optim.scheduler.step_size=5",
        ],
        ["~optim.scheduler"],
        ["+callbacks.lr={_target_:lightning.pytorch.callbacks.LearningRateMonitor,logging_interval:epoch}"],
        ["+trainer.enable_checkpointing=false", "checkpoints=none"],
        ["+trainer.enable_checkpointing=true", "checkpoints=best"],
        ["+trainer.enable_progress_bar=false"],
        ["+trainer.enable_model_summary=false", "callbacks=none"],
        ["+callbacks.ckpt={_target_:lightning.pytorch.callbacks.ModelCheckpoint,every_n_epochs:5}"],
        [
            "regularization=early_stopping",
            "+callbacks.es={_target_:lightning.pytorch.callbacks.EarlyStopping,monitor:val/loss}",
        ],
        [
            "callbacks.progress_bar=null",
            "+callbacks.rich={_target_:lightning.pytorch.callbacks.RichProgressBar}",
        ],
        [
            "+trainer.enable_progress_bar=false",
            "+callbacks.b={_target_:lightning.pytorch.callbacks.RichProgressBar}",
        ],
    ],
)
def test_good_neighbours_of_refused_inputs_are_accepted(bad_dir, args):
    jobs = preflight(CONF_DIR, "train", _args(args, bad_dir), TRAIN)
    assert len(jobs) == 1


def test_the_table_holds_sixty_bad_inputs():
    assert len(BAD_TRAIN) >= 60


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from ablation_lab.train import train

    out = tmp_path_factory.mktemp("good")
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        fast = ["trainer.max_epochs=1", "++trainer.limit_train_batches=2", "trainer.accelerator=cpu"]
        cfg = compose("train", overrides=[*fast, f"paths.output_dir={out}", "model.width=16"])
    GlobalHydra.instance().clear()
    train(cfg)
    return Path(json.loads((out / "metrics.json").read_text())["best_checkpoint"])


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (None, [], "ckpt_path is missing; it must be the path of a checkpoint file"),
        (lambda tmp, good: "nope.ckpt", [], "ckpt_path='nope.ckpt' is not a file"),
        (lambda tmp, good: "README.md", [], "ckpt_path='README.md' is not a checkpoint"),
        (lambda tmp, good: bad_files.corrupt_checkpoint(tmp / "c.ckpt"), [], "is not a readable checkpoint"),
        (lambda tmp, good: tmp / "evil.ckpt", [], "refused, since loading it could run code"),
        (
            lambda tmp, good: bad_files.mismatched_checkpoint(good, tmp / "m.ckpt"),
            [],
            "its weights do not fit the model",
        ),
        (lambda tmp, good: good, ["split=train"], "unknown split 'train'; choose one of: test, val"),
    ],
)
def test_bad_eval_input_is_refused_in_one_line(bad_dir, good_checkpoint, make, extra, message):
    args = [*extra] if make is None else [f"ckpt_path={make(bad_dir, good_checkpoint)}", *extra]
    with pytest.raises(ConfigError) as refused:
        preflight(CONF_DIR, "eval", quote_paths(args), EVAL)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not (bad_dir / "PAYLOAD_RAN").exists()


def _tree(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")} if folder.exists() else {}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("ablation-train", ["trainer.max_epochs=abc"]),
        ("ablation-train", ["data.train_size=5"]),
        ("ablation-train", ["model=resnet", "model.depth=21"]),
        ("ablation-train", ["-m", "data.batch_size=64,0"]),
        (
            "ablation-train",
            [
                "+callbacks.x._target_=torch.load",
                "+callbacks.x.f={tmp}/evil.ckpt",
                "+callbacks.x.weights_only=false",
            ],
        ),
        (
            "ablation-train",
            ["+hydra.callbacks.x._target_=os.system", "+hydra.callbacks.x.command='touch {tmp}/PAYLOAD_RAN'"],
        ),
        ("ablation-train", ["init=pretrained", "init.path={tmp}/evil.ckpt"]),
        ("ablation-train", ["paths.output_dir={tmp}/logs/runs/2020-01-01_00-00-00_defaults"]),
        ("ablation-train", ["--experimental-rerun", "{tmp}/evil.ckpt"]),
        (
            "ablation-train",  # a run on its own: auto's best.ckpt has this state key
            [
                "+callbacks.best={_target_:lightning.pytorch.callbacks.ModelCheckpoint,monitor:val/acc,mode:max}"
            ],
        ),
        ("ablation-eval", ["ckpt_path={tmp}/evil.ckpt"]),
        ("ablation-eval", []),
        ("ablation-diagnose", ["init=xavierr"]),
    ],
)
def test_the_commands_exit_2_with_one_line_and_leave_everything_as_it_was(bad_dir, tool, args):
    earlier = bad_dir / "logs" / "runs" / "2020-01-01_00-00-00_defaults"
    earlier.mkdir(parents=True)
    (earlier / "metrics.json").write_text("{}")
    before = _tree(bad_dir / "logs")
    argv = [a.replace("{tmp}", str(bad_dir)) for a in args]
    proc = subprocess.run(
        [str(BIN / tool), *argv],
        cwd=bad_dir,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{tool}: error: "), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert _tree(bad_dir / "logs") == before
    assert not (bad_dir / "PAYLOAD_RAN").exists()
