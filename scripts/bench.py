"""Images/s of a plain PyTorch loop vs ablation-lab's Trainer on the same model, data and steps.

Both sides train the same network (built from the same config), on the same in-memory uint8
tensors served by the same BatchLoader, with the same optimizer, in one process. The Lightning
side runs the real ClassifierModule with the default logger, progress bar and callbacks; only
validation is off on both sides. Timing skips the first `--warmup` steps of each.

The diagnostics measure 21 steps per run, whatever its length: the bench spaces them as in the
20-epoch run on the real dataset that each case stands for, and prints their per-run cost on its
own line (measured: every step measured vs none).

    python scripts/bench.py [--device cpu|cuda] [--steps-mlp 300] [--steps-cnn 80] [--trials 5]
                            [--precision 32-true|bf16-mixed] [--channels-last] [--compile]
                            [--cases mlp,cnn,resnet20]

`--precision`, `--channels-last` and `--compile` apply to both sides alike (autocast, memory
format, torch.compile of the network), so each ratio is the lab's own cost at that setting.
"""

import argparse
import contextlib
import io
import logging
import tempfile
import time
import warnings

import lightning as L
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback
from omegaconf import OmegaConf

from ablation_lab.build import build_module
from ablation_lab.data.datamodule import TensorDataModule
from ablation_lab.data.loader import BatchLoader
from ablation_lab.data.sources import Split
from ablation_lab.train import CONF_DIR

CASES = {
    "mlp": ("mlp 1x28x28 (784-512-512-10)", ["data=mnist", "model=mlp", "model.width=512"], (1, 28, 28)),
    "cnn": (
        "cnn 3x32x32 (32-64-128 + BN)",
        ["data=cifar10", "model=cnn", "regularization=batchnorm"],
        (3, 32, 32),
    ),
    "resnet20": (
        "resnet-20 3x32x32 (CIFAR)",
        ["data=cifar10", "model=resnet", "model.depth=20"],
        (3, 32, 32),
    ),
}
# Images in the official training split of each case's dataset: the real run a bench case stands for.
TRAIN_IMAGES = {"mnist": 60_000, "cifar10": 50_000}


def _prepare(net: torch.nn.Module, device: torch.device, channels_last: bool, compiled: bool):
    """The network as both sides run it: on `device`, channels_last for convs, compiled."""
    net = net.to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    return torch.compile(net) if compiled else net


class StepTimer(Callback):
    """Wall time from the start of step `warmup` to the end of the last step (steady state:
    the data holds all steps in one epoch, so no epoch-end work falls inside the window)."""

    def __init__(self, warmup: int, device: torch.device) -> None:
        self.warmup, self.device, self.start, self.end = warmup, device, None, None

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            _sync(self.device)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == trainer.max_steps:
            _sync(self.device)
            self.end = time.perf_counter()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _data(shape, n: int, device: torch.device) -> Split:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)
    return Split(x.to(device), torch.randint(0, 10, (n,), generator=g).to(device))


def _config(overrides: list[str], batch: int, out: str):
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=[*overrides, f"data.batch_size={batch}", f"paths.output_dir={out}"])


def run_steps(cfg) -> int:
    """Optimizer steps of the real run a case stands for: the dataset's training split (less its
    validation share) at this batch size, for the config's max_epochs."""
    train = int(TRAIN_IMAGES[cfg.data.name] * (1 - cfg.data.val_fraction))
    return train // cfg.data.batch_size * cfg.trainer.max_epochs


def diagnostics_at_run_cadence(cfg):
    """`cfg` with its diagnostics spaced as in the real run. They measure `measurements` steps per
    run, whatever its length: a bench window of a few hundred steps would hold all of them; spaced
    as in the real run, it holds what a real run's steps pay (their own per-run cost is measured
    apart: `diagnostics_cost`)."""
    every = -(-run_steps(cfg) // cfg.callbacks.diagnostics.measurements)
    return OmegaConf.merge(cfg, {"callbacks": {"diagnostics": {"every_n_steps": every}}})


def _module(cfg, data: Split):
    dm = TensorDataModule(batch_size=cfg.data.batch_size, preprocess=cfg.data.preprocess)
    dm.train = dm.val = dm.test = data
    return dm, build_module(cfg, dm)


def plain(cfg, data: Split, steps: int, warmup: int, device: torch.device, opts=None) -> float:
    """The reference: forward, loss, backward, step; nothing else."""
    opts = opts or argparse.Namespace(precision="32-true", channels_last=False, compile=False)
    torch.manual_seed(0)
    _, module = _module(cfg, data)
    net = _prepare(module.net, device, opts.channels_last, opts.compile)
    pre = module.preprocess.to(device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=opts.precision == "bf16-mixed")
    opt = instantiate(cfg.optim.optimizer)(net.parameters())
    loader, done, start = (
        BatchLoader(data.x, data.y, cfg.data.batch_size, shuffle=True, drop_last=True),
        0,
        0.0,
    )
    while done < steps:
        for x, y in loader:  # one epoch covers all steps, as on the Lightning side
            if done == warmup:
                _sync(device)
                start = time.perf_counter()
            with autocast:
                loss = F.cross_entropy(net(pre(x.float())), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    _sync(device)
    return (steps - warmup) * cfg.data.batch_size / (time.perf_counter() - start)


def lightning(cfg, data: Split, steps: int, warmup: int, device: torch.device, opts=None) -> float:
    """ablation-lab's path: the real module, logger, progress bar and callbacks of `train`."""
    opts = opts or argparse.Namespace(precision="32-true", channels_last=False, compile=False)
    torch.manual_seed(0)
    dm, module = _module(cfg, data)
    module.net = _prepare(module.net, device, opts.channels_last, opts.compile)
    timer = StepTimer(warmup, device)
    callbacks = [instantiate(c) for c in cfg.callbacks.values() if c is not None] + [timer]
    loggers = [instantiate(c) for c in cfg.logger.values()]
    trainer = L.Trainer(
        **{
            k: v
            for k, v in cfg.trainer.items()
            if k not in ("_target_", "max_epochs", "accelerator", "precision", "devices", "strategy")
        },
        accelerator=device.type,
        devices=1,
        precision=opts.precision,
        max_steps=steps,
        limit_val_batches=0,
        callbacks=callbacks,
        logger=loggers,
        enable_model_summary=False,
    )
    sink = io.StringIO()  # the bar still draws (its cost counts), unseen
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        trainer.fit(module, datamodule=dm)
    return (steps - warmup) * cfg.data.batch_size / (timer.end - timer.start)


def diagnostics_cost(cfg, data: Split, steps: int, device: torch.device, opts=None) -> float:
    """Seconds one measured step of the diagnostics adds: the lab's trainer measuring every step
    vs. never, best of two each (the difference is several ms a step, well above the noise)."""
    every = OmegaConf.merge(cfg, {"callbacks": {"diagnostics": {"every_n_steps": 1}}})
    never = OmegaConf.merge(cfg, {"callbacks": {"diagnostics": None}})
    fast = [max(lightning(c, data, steps, 2, device, opts) for _ in range(2)) for c in (every, never)]
    return cfg.data.batch_size / fast[0] - cfg.data.batch_size / fast[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps-mlp", type=int, default=300)
    parser.add_argument("--steps-cnn", type=int, default=80)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--cases", default="mlp,cnn")
    args = parser.parse_args()
    for row in run(args):
        print(row)


def run(args) -> list[str]:
    """The table's lines for `args` (also called by scripts/gpu_check.py)."""
    warnings.filterwarnings("ignore")  # a clean table: Lightning's tips and warnings are not results
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    device = torch.device(args.device)
    steps = {"mlp": args.steps_mlp, "cnn": args.steps_cnn, "resnet20": args.steps_cnn}
    setting = " ".join([args.precision] + ["channels_last"] * args.channels_last + ["compile"] * args.compile)
    threads = torch.get_num_threads()
    lines = [
        f"device={device} batch={args.batch} torch={torch.__version__} threads={threads} {setting}",
        f"{'case':34s} {'plain img/s':>12s} {'lightning img/s':>16s} {'ratio':>6s}",
    ]
    for key in args.cases.split(","):
        name, overrides, shape = CASES[key]
        n_steps = steps[key]
        with tempfile.TemporaryDirectory() as out:
            cfg = _config([*overrides, "callbacks.progress_bar.refresh_rate=10"], args.batch, out)
            cfg = diagnostics_at_run_cadence(cfg)
            data = _data(shape, args.batch * n_steps, device)
            best_plain = best_light = 0.0
            for _ in range(args.trials):  # alternate, keep the best of each: noise only slows
                best_plain = max(best_plain, plain(cfg, data, n_steps, args.warmup, device, args))
                best_light = max(best_light, lightning(cfg, data, n_steps, args.warmup, device, args))
            # compiled: the measured steps run the plain net, so their difference is not the diagnostics'
            per_step = None if args.compile else diagnostics_cost(cfg, data, min(n_steps, 30), device, args)
        lines.append(f"{name:34s} {best_plain:12.0f} {best_light:16.0f} {best_light / best_plain:6.2f}")
        measured = cfg.callbacks.diagnostics.measurements + 1
        if per_step is None:
            lines.append(f"  + diagnostics, once per run: {measured} plain-net steps (untimed: --compile)")
            continue
        run_seconds = run_steps(cfg) * args.batch / best_plain
        lines.append(
            f"  + diagnostics, once per run: {measured} measured steps x {per_step * 1e3:.1f} ms = "
            f"{measured * per_step:.2f} s, {100 * measured * per_step / run_seconds:.2f}% of the "
            f"{cfg.trainer.max_epochs}-epoch {cfg.data.name} run it stands for ({run_steps(cfg)} steps)"
        )
    return lines


if __name__ == "__main__":
    main()
