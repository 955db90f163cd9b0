"""Images/s of a plain PyTorch loop vs ablation-lab's Trainer on the same model, data and steps.

Both sides train the same network (built from the same config), on the same in-memory uint8
tensors served by the same BatchLoader, with the same optimizer, in one process. The Lightning
side runs the real ClassifierModule with the trainer, logger, progress bar and callbacks of a
single run (checkpoints included, written at the end, outside the timed window); only validation
is off on both sides. After `--warmup` steps of each, windows of 10 steps alternate: one of the
lab's, one of the plain loop's, and so on; the ratio is the median of the pairs' ratios, each
side's images/s its median window's (the noise of a shared machine slows some windows: it is an
outlier, not a trend, and meets both sides alike).

The `tiny` case (a 784-16-10 MLP) has next to no compute: its "ms added/step" is the cost of the
lab's loop itself (Lightning's included), the figure that a short GPU step feels; on a larger net
the same cost hides in the noise of the compute.

The diagnostics measure 21 steps per run, whatever its length: the bench spaces them as in the
20-epoch run on the real dataset that each case stands for, and prints their per-run cost on its
own line (measured: every step measured vs none).

    python scripts/bench.py [--device cpu|cuda] [--steps-mlp 300] [--steps-cnn 80] [--trials 5]
                            [--precision 32-true|bf16-mixed] [--channels-last] [--compile]
                            [--cases mlp,cnn,tiny,resnet20] [--threads 1]

`--precision`, `--channels-last` and `--compile` apply to both sides alike (autocast, memory
format, torch.compile of the network), so each ratio is the lab's own cost at that setting.
"""

import argparse
import contextlib
import io
import logging
import statistics
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

from ablation_lab.build import build_callbacks, build_module, without_lightning_defaults
from ablation_lab.data.datamodule import TensorDataModule
from ablation_lab.data.loader import BatchLoader
from ablation_lab.data.sources import Split
from ablation_lab.train import CONF_DIR
from ablation_lab.utils.checkpoints import SafeCheckpointIO
from ablation_lab.utils.devices import trainer_options
from ablation_lab.utils.hook_dispatch import install as skip_empty_hooks
from ablation_lab.utils.hot_path import drop_failing_nvml_probe

CASES = {
    "tiny": (
        "mlp 1x28x28 (784-16-10): the loop alone",
        ["data=mnist", "model=mlp", "model.depth=1", "model.width=16"],
        (1, 28, 28),
    ),
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


# Steps per timed window: the lab's periodic work (a logged step, a progress-bar refresh: every 10
# steps by default) falls once in every window, so each window pays its share.
WINDOW = 10


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class WindowTimer(Callback):
    """Seconds of each window of WINDOW steps of a Lightning fit after `warmup` steps (the device
    synchronised at window edges only; the data holds all steps in one epoch, so no epoch-end work
    falls inside). With `plain` (a plain_windows generator) a window of the plain loop runs right
    after each of the lab's, untimed by it: every pair of windows meets the same machine load."""

    def __init__(self, warmup: int, device: torch.device, plain=None) -> None:
        self.warmup, self.device, self.plain = warmup, device, plain
        self.start: float | None = None
        self.lab: list[float] = []
        self.paired_plain: list[float] = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        done = trainer.global_step
        if done < self.warmup or (done - self.warmup) % WINDOW:
            return
        _sync(self.device)
        if self.start is not None:
            self.lab.append(time.perf_counter() - self.start)
            if self.plain is not None:
                self.paired_plain.append(next(self.plain))
        self.start = time.perf_counter()


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


def plain_windows(cfg, data: Split, warmup: int, device: torch.device, opts):
    """The reference loop, forward, loss, backward, step and nothing else, as a generator: `warmup`
    steps, then each next() runs WINDOW more steps and returns their seconds."""
    torch.manual_seed(0)
    _, module = _module(cfg, data)
    net = _prepare(module.net, device, opts.channels_last, opts.compile)
    pre = module.preprocess.to(device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=opts.precision == "bf16-mixed")
    opt = instantiate(cfg.optim.optimizer)(net.parameters())
    loader = BatchLoader(data.x, data.y, cfg.data.batch_size, shuffle=True, drop_last=True)

    def batches():
        while True:
            yield from loader

    def step(x, y) -> None:
        with autocast:
            loss = F.cross_entropy(net(pre(x.float())), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    stream = batches()
    for _ in range(warmup):
        step(*next(stream))
    while True:
        _sync(device)
        start = time.perf_counter()
        for _ in range(WINDOW):
            step(*next(stream))
        _sync(device)
        yield time.perf_counter() - start


def lightning(cfg, data: Split, steps: int, warmup: int, device: torch.device, opts=None, plain=None):
    """ablation-lab's path, the real module, trainer options, logger and callbacks of `train`, for
    `steps` steps; its WindowTimer (which runs the `plain` loop's paired windows, when given)."""
    opts = opts or argparse.Namespace(precision="32-true", channels_last=False, compile=False)
    torch.manual_seed(0)
    dm, module = _module(cfg, data)
    module.net = _prepare(module.net, device, opts.channels_last, opts.compile)
    timer = WindowTimer(warmup, device, plain)
    callbacks = [*build_callbacks(cfg, module.plan, sweep=False), timer]
    loggers = [instantiate(c) for c in cfg.logger.values()]
    trainer = L.Trainer(
        **{
            k: v
            for k, v in cfg.trainer.items()
            if k not in ("_target_", "max_epochs", "accelerator", "precision", "devices", "strategy")
        },
        **{
            **trainer_options(cfg, sweep=False, launcher=None),
            **without_lightning_defaults(cfg, callbacks),
            "precision": opts.precision,
        },
        accelerator=device.type,
        devices=1,
        max_steps=steps,
        limit_val_batches=0,
        callbacks=callbacks,
        logger=loggers,
        plugins=[SafeCheckpointIO()],
    )
    sink = io.StringIO()  # the bar still draws (its cost counts), unseen
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        trainer.fit(module, datamodule=dm)
    return timer


def compare(cfg, data: Split, steps: int, warmup: int, device: torch.device, opts, trials: int):
    """(plain images/s, lab images/s, lab/plain, seconds the lab adds per step): median windows of
    each side, the median of the paired windows' ratios and of their differences, over `trials`
    fits of `steps` steps (each window of the lab's followed by one of the plain loop's). Pairing
    and medians are what resolve a 10% difference on a shared 2-core machine, where back-to-back
    runs of the same code differ by more."""
    lab, paired = [], []
    for _ in range(trials):
        timer = lightning(
            cfg, data, steps, warmup, device, opts, plain_windows(cfg, data, warmup, device, opts)
        )
        lab += timer.lab
        paired += timer.paired_plain
    rate = WINDOW * cfg.data.batch_size
    ratio = statistics.median(p / q for p, q in zip(paired, lab, strict=True))
    added = statistics.median(q - p for p, q in zip(paired, lab, strict=True)) / WINDOW
    return rate / statistics.median(paired), rate / statistics.median(lab), ratio, added


def diagnostics_cost(cfg, data: Split, steps: int, device: torch.device, opts=None) -> float:
    """Seconds one measured step of the diagnostics adds: the lab's trainer measuring every step
    vs. never, best of two each (the difference is several ms a step, well above the noise)."""
    every = OmegaConf.merge(cfg, {"callbacks": {"diagnostics": {"every_n_steps": 1}}})
    never = OmegaConf.merge(cfg, {"callbacks": {"diagnostics": None}})
    seconds = [
        min(statistics.median(lightning(c, data, steps, 2, device, opts).lab) for _ in range(2))
        for c in (every, never)
    ]
    return (seconds[0] - seconds[1]) / WINDOW


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
    parser.add_argument("--cases", default="mlp,cnn,tiny")
    parser.add_argument("--threads", type=int, default=1, help="torch's CPU threads (pinned: see notes)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # a shared 2-core machine: 2 threads stall on each other
    for case in args.cases.split(","):
        steps = args.steps_mlp if case in ("mlp", "tiny") else args.steps_cnn
        if steps < args.warmup + 2 * WINDOW:
            parser.error(f"{case}: {steps} steps hold no 2 timed windows; use ≥ warmup + {2 * WINDOW} steps")
    for row in run(args):
        print(row)


def run(args) -> list[str]:
    """The table's lines for `args` (also called by scripts/gpu_check.py)."""
    warnings.filterwarnings("ignore")  # a clean table: Lightning's tips and warnings are not results
    # as a run does (train.py), and as a process without Lightning is: no failing NVML load per step,
    # no call to an empty hook
    drop_failing_nvml_probe()
    skip_empty_hooks()
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    device = torch.device(args.device)
    steps = {"tiny": args.steps_mlp, "mlp": args.steps_mlp, "cnn": args.steps_cnn, "resnet20": args.steps_cnn}
    setting = " ".join([args.precision] + ["channels_last"] * args.channels_last + ["compile"] * args.compile)
    threads = torch.get_num_threads()
    lines = [
        f"device={device} batch={args.batch} torch={torch.__version__} threads={threads} {setting}",
        f"{'case':40s} {'plain img/s':>12s} {'lightning img/s':>16s} {'ratio':>6s} {'ms added/step':>14s}",
    ]
    for key in args.cases.split(","):
        name, overrides, shape = CASES[key]
        n_steps = steps[key]
        with tempfile.TemporaryDirectory() as out:
            cfg = _config([*overrides, "callbacks.progress_bar.refresh_rate=10"], args.batch, out)
            cfg = diagnostics_at_run_cadence(cfg)
            data = _data(shape, args.batch * n_steps, device)
            plain_rate, lab_rate, ratio, added = compare(
                cfg, data, n_steps, args.warmup, device, args, args.trials
            )
            # compiled: the measured steps run the plain net, so their difference is not the diagnostics'
            timed = not args.compile and key != "tiny"  # tiny stands for no real run
            per_step = diagnostics_cost(cfg, data, min(n_steps, 30), device, args) if timed else None
        lines.append(f"{name:40s} {plain_rate:12.0f} {lab_rate:16.0f} {ratio:6.2f} {added * 1e3:+14.2f}")
        measured = cfg.callbacks.diagnostics.measurements + 1
        if key == "tiny":
            continue
        if per_step is None:
            lines.append(f"  + diagnostics, once per run: {measured} plain-net steps (untimed: --compile)")
            continue
        run_seconds = run_steps(cfg) * args.batch / plain_rate
        lines.append(
            f"  + diagnostics, once per run: {measured} measured steps x {per_step * 1e3:.1f} ms = "
            f"{measured * per_step:.2f} s, {100 * measured * per_step / run_seconds:.2f}% of the "
            f"{cfg.trainer.max_epochs}-epoch {cfg.data.name} run it stands for ({run_steps(cfg)} steps)"
        )
    return lines


if __name__ == "__main__":
    main()
