"""Every knob of the config tree with its type and range: the one table the preflight checks each
job of a command line against before anything runs, and that the techniques read their knobs
through (`knob`). A key that is not here is refused, except under the open prefixes (arguments
passed on to Lightning, torch optimizers and Hydra), whose known keys are still typed.

Registered names are listed here too (datasets, preprocessings, augmentations) so that this module
needs no torch; tests/test_schema.py checks them against the registries.
"""

import fnmatch

from omegaconf import ListConfig, OmegaConf

from ablation_lab.config.knobs import (
    Bool,
    Checkpoint,
    Choice,
    Count,
    Float,
    Floats,
    Int,
    Ints,
    Knob,
    Names,
    Positive,
    Probability,
    Str,
    Strs,
)

DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar100", "svhn", "image_folder", "npz")
PREPROCESSINGS = (
    "none",
    "scale01",
    "max_norm",
    "min_max",
    "mean_image",
    "channel_mean",
    "standardize",
    "pca_whiten",
    "zca_whiten",
)
AUGMENTATIONS = (
    "none",
    "flip_crop",
    "hflip",
    "vflip",
    "crop",
    "resized_crop",
    "color_jitter",
    "affine",
    "cutout",
)
TTA = ("none", "hflip", "flip_crop")
METRICS = ("val/acc", "val/loss", "val/acc_best", "train/loss", "train/acc")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
PRECISIONS = ("32-true", "32", "64-true", "64", "16-mixed", "bf16-mixed", "16-true", "bf16-true")

KNOBS: dict[str, Knob] = {
    # top level
    "seed": Int(0, 2**32 - 1),
    "ckpt_path": Checkpoint(nullable=True),
    "checkpoints": Choice("auto", "both", "best", "last", "none"),
    "threads": Knob("threads", 1),
    "jobs_per_gpu": Int(1, 64),
    "ddp_timeout_s": Int(1),
    "compile": Bool(),
    "task_name": Str(),
    "tags": Strs(),
    "paths.log_dir": Str(),
    "paths.data_dir": Str(),
    "paths.output_dir": Str(),
    # data
    "data._target_": Str(),
    "data.name": Choice(*DATASETS),
    "data.root": Str(nullable=True),
    "data.path": Str(nullable=True),
    "data.cache_dir": Str(),
    "data.download": Bool(),
    "data.batch_size": Int(1),
    "data.eval_batch_size": Int(1),
    "data.val_fraction": Float(0.0, 1.0, low_open=True, high_open=True),
    "data.test_fraction": Float(0.0, 1.0, low_open=True, high_open=True),
    "data.split_seed": Int(0, 2**32 - 1),
    "data.train_fraction": Float(0.0, 1.0, low_open=True),
    "data.train_size": Int(1, nullable=True),
    "data.preprocess": Choice(*PREPROCESSINGS),
    "data.whiten_eps": Positive(),
    "data.augment": Names(*AUGMENTATIONS),
    "data.augment_args.hflip.p": Float(0.0, 1.0),
    "data.augment_args.vflip.p": Float(0.0, 1.0),
    "data.augment_args.crop.pad": Int(0, nullable=True),
    "data.augment_args.resized_crop.scale": Floats(0.0, 1.0, low_open=True, length=2),
    "data.augment_args.resized_crop.ratio": Floats(0.0, low_open=True, length=2),
    "data.augment_args.color_jitter.brightness": Float(0.0, 1.0),
    "data.augment_args.color_jitter.contrast": Float(0.0, 1.0),
    "data.augment_args.color_jitter.saturation": Float(0.0, 1.0),
    "data.augment_args.affine.degrees": Float(0.0, 180.0),
    "data.augment_args.affine.translate": Float(0.0, 1.0),
    "data.augment_args.affine.shear": Float(0.0, 90.0, high_open=True),
    "data.augment_args.affine.scale": Floats(0.0, low_open=True, length=2),
    "data.augment_args.cutout.size": Int(1, nullable=True),
    "data.augment_args.cutout.count": Int(1, 64),
    "data.tta": Choice(*TTA),
    "data.in_shape": Ints(1, length=3),
    "data.num_classes": Int(2),
    # model
    "model._target_": Str(),
    "model.name": Choice("mlp", "cnn", "resnet", "plain_deep"),
    "model.depth": Int(0, 10_000),
    "model.width": Int(1, 1_000_000),
    "model.channels": Ints(1),
    "model.norm": Choice("batch", "none"),
    "model.kind": Choice("mlp", "conv"),
    # activation
    "activation.name": Str(),
    "activation.negative_slope": Float(0.0, 1.0),
    "activation.init": Float(0.0, 1.0),
    "activation.per_channel": Bool(),
    "activation.alpha": Positive(),
    "activation.approximate": Choice("none", "tanh"),
    "activation.beta": Positive(),
    "activation.learnable": Bool(),
    "activation.k": Int(2, 64),
    # init
    "init.name": Str(),
    "init.bias": Float(),
    "init.value": Float(),
    "init.a": Positive(),
    "init.std": Positive(),
    "init.gain": Positive(),
    "init.mode": Choice("fan_in", "fan_out"),
    "init.path": Checkpoint(nullable=True),
    "init.freeze_backbone": Bool(),
    # regularization
    "regularization.weight_decay.lambda": Float(0.0, 1.0, nullable=True),
    "regularization.weight_decay.decoupled": Bool(),
    "regularization.l1.lambda": Float(0.0, 1.0),
    "regularization.dropout.p": Probability(),
    "regularization.dropout.inverted": Bool(),
    "regularization.dropout.placement": Choice("fc", "blocks", "head"),
    "regularization.alpha_dropout.p": Probability(),
    "regularization.alpha_dropout.placement": Choice("fc", "blocks", "head"),
    "regularization.dropconnect.p": Probability(),
    "regularization.dropconnect.per_example": Bool(),
    "regularization.dropconnect.mask_bias": Bool(),
    "regularization.dropconnect.inference": Choice("mean", "gaussian"),
    "regularization.dropconnect.samples": Int(1, 1_000_000),
    "regularization.dropconnect.layers": Choice("all", "last"),
    "regularization.batchnorm.order": Choice("bn_act_dropout", "dropout_bn_act"),
    "regularization.label_smoothing.epsilon": Probability(),
    "regularization.confidence_penalty.beta": Float(0.0, 10.0),
    "regularization.mixup.alpha": Float(0.0, 100.0, low_open=True),
    "regularization.cutout.size": Int(1, 4096, nullable=True),
    "regularization.cutout.count": Int(1, 64),
    "regularization.stochastic_depth.p_last": Float(0.0, 1.0, low_open=True),
    "regularization.stochastic_depth.mode": Choice("row", "batch"),
    "regularization.fractional_max_pool.ratio": Float(0.5, 1.0, high_open=True),
    "regularization.fractional_max_pool.test_passes": Int(1, 1000),
    "regularization.aux_classifier.weight": Float(0.0, 100.0),
    "regularization.aux_classifier.positions": Floats(0.0, 1.0, high_open=True),
    "regularization.early_stopping.monitor": Choice(*METRICS),
    "regularization.early_stopping.mode": Choice("min", "max"),
    "regularization.early_stopping.patience": Int(0, 10_000),
    "regularization.early_stopping.min_delta": Float(0.0),
    # optim
    "optim.name": Str(),
    "optim.decoupled_weight_decay": Bool(),
    "optim.optimizer.lr": Positive(),
    "optim.optimizer.momentum": Float(0.0, 1.0, high_open=True),
    "optim.optimizer.nesterov": Bool(),
    "optim.optimizer.weight_decay": Float(0.0),
    "optim.optimizer.betas": Floats(0.0, 1.0, high_open=True, length=2),
    "optim.optimizer.eps": Positive(),
    "optim.optimizer.fused": Bool(),
    "optim.scheduler.T_max": Int(1),
    # trainer (Lightning's own arguments; those listed here are typed)
    "trainer._target_": Str(),
    "trainer.max_epochs": Int(1),
    "trainer.min_epochs": Int(0, nullable=True),
    "trainer.max_steps": Int(-1),
    "trainer.accelerator": Choice(*ACCELERATORS),
    "trainer.devices": Int(1),
    "trainer.precision": Choice(*PRECISIONS),
    "trainer.log_every_n_steps": Int(1),
    "trainer.num_sanity_val_steps": Int(-1),
    "trainer.deterministic": Bool(),
    # true or false, read by build.py and config/relations.py: another value would pass neither
    "trainer.enable_checkpointing": Bool(),
    "trainer.enable_progress_bar": Bool(),
    "trainer.enable_model_summary": Bool(),
    "trainer.default_root_dir": Str(),
    "trainer.limit_train_batches": Count(),
    "trainer.limit_val_batches": Count(),
    "trainer.limit_test_batches": Count(),
    "trainer.overfit_batches": Count(),
    "trainer.fast_dev_run": Bool(),
    "trainer.gradient_clip_val": Float(0.0, nullable=True),
    "trainer.accumulate_grad_batches": Int(1),
    "trainer.check_val_every_n_epoch": Int(1),
    # callbacks shipped in conf/callbacks (other keys there go to the callback's own constructor)
    "callbacks.*._target_": Str(),
    "callbacks.diagnostics.every_n_steps": Int(1, nullable=True),
    "callbacks.diagnostics.measurements": Int(1, 10_000),
    "callbacks.diagnostics.histograms": Bool(),
    "callbacks.diagnostics.saturation_threshold": Float(0.0, 1.0, low_open=True, high_open=True),
    "callbacks.progress_bar.refresh_rate": Int(0),
    "callbacks.model_summary.max_depth": Int(-1),
    # ablation-diagnose and ablation-eval
    "batch": Int(1),
    "max_panels": Int(1, 100),
    "split": Choice("test", "val"),
    "data_root": Str(nullable=True),
    "accelerator": Choice(*ACCELERATORS),
}

# Keys under these prefixes go to Lightning, torch or Hydra, which take more than we type here.
OPEN_PREFIXES = ("hydra.", "optim.optimizer.", "optim.scheduler.", "callbacks.", "logger.")
# Lightning 2.6 Trainer arguments (tests/test_schema.py checks them against its signature).
TRAINER_ARGS = frozenset(
    """accelerator strategy devices num_nodes precision logger callbacks fast_dev_run max_epochs
    min_epochs max_steps min_steps max_time limit_train_batches limit_val_batches limit_test_batches
    limit_predict_batches overfit_batches val_check_interval check_val_every_n_epoch
    num_sanity_val_steps log_every_n_steps enable_checkpointing enable_progress_bar
    enable_model_summary accumulate_grad_batches gradient_clip_val gradient_clip_algorithm
    deterministic benchmark inference_mode use_distributed_sampler profiler detect_anomaly
    barebones plugins sync_batchnorm reload_dataloaders_every_n_epochs default_root_dir
    model_registry enable_autolog_hparams""".split()
)


def spec_of(key: str) -> Knob | None:
    """The knob of a dotted key (exact, or a `*` pattern), None if the table has none."""
    if key in KNOBS:
        return KNOBS[key]
    return next(
        (k for pattern, k in KNOBS.items() if "*" in pattern and fnmatch.fnmatchcase(key, pattern)), None
    )


def knob(key: str, value):
    """`value` of `key` checked against the table and converted to the knob's type."""
    spec = spec_of(key)
    if spec is None:
        raise KeyError(f"no knob '{key}' in the schema")
    if isinstance(value, ListConfig):
        value = OmegaConf.to_container(value, resolve=True)
    return spec.check(key, value)


def known(key: str) -> bool:
    """Whether a config may hold `key` (typed, or passed on to Lightning/torch/Hydra)."""
    if spec_of(key) is not None or f"{key}.".startswith(OPEN_PREFIXES):
        return True
    head, _, rest = key.partition(".")
    return head == "trainer" and rest in TRAINER_ARGS
