"""What Lightning itself adds to a training step, apart from the lab: the floor under `make bench`.

For each case, three loops train the same network on the same data in one process: the plain
PyTorch loop of `make bench`; a bare LightningModule (the same forward, loss and optimizer; no
callbacks, logger, progress bar, checkpoints or profiler); and the lab's trainer as `make bench`
runs it. Each Lightning fit pairs every 10-step window with one of the plain loop's, as the bench
does, and the table gives each one's milliseconds added per step and its ratio to the plain loop.
The bare row is what any Lightning run pays; the lab row less the bare row is the lab's own.

    python scripts/lightning_floor.py [--cases tiny,mlp] [--steps 600] [--trials 3] [--batch 128]
"""

import argparse
import contextlib
import io
import logging
import statistics
import tempfile
import warnings

import bench
import lightning as L
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from ablation_lab.utils.hook_dispatch import install as skip_empty_hooks
from ablation_lab.utils.hot_path import NoProfiler, drop_failing_nvml_probe

PLAIN_OPTS = argparse.Namespace(precision="32-true", channels_last=False, compile=False)


class BareModule(L.LightningModule):
    """The plain loop's step as a LightningModule: preprocess, net, cross-entropy; one optimizer."""

    def __init__(self, net, preprocess, optimizer) -> None:
        super().__init__()
        self.net, self.preprocess, self.optimizer = net, preprocess, optimizer

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(self.preprocess(x.float())), y)

    def configure_optimizers(self):
        return instantiate(self.optimizer)(self.parameters())


def bare(cfg, data, steps: int, warmup: int, device: torch.device, plain) -> bench.WindowTimer:
    """A bare LightningModule's fit of `steps` steps, its windows paired with the `plain` loop's."""
    torch.manual_seed(0)
    dm, module = bench._module(cfg, data)
    timer = bench.WindowTimer(warmup, device, plain)
    trainer = L.Trainer(
        accelerator=device.type, devices=1, max_steps=steps, limit_val_batches=0, logger=False,
        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
        profiler=NoProfiler(), callbacks=[timer],
    )  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        trainer.fit(BareModule(module.net, module.preprocess, cfg.optim.optimizer), datamodule=dm)
    return timer


def lab(cfg, data, steps: int, warmup: int, device: torch.device, plain) -> bench.WindowTimer:
    return bench.lightning(cfg, data, steps, warmup, device, PLAIN_OPTS, plain)


def added(timers: list[bench.WindowTimer]) -> tuple[float, float]:
    """(ms added per step, ratio to the plain loop): medians over the paired windows."""
    paired = [(p, q) for t in timers for p, q in zip(t.paired_plain, t.lab, strict=True)]
    ms = statistics.median(q - p for p, q in paired) / bench.WINDOW * 1e3
    return ms, statistics.median(p / q for p, q in paired)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default="tiny,mlp")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch's CPU threads (pinned: see notes)")
    args = parser.parse_args()
    for case in args.cases.split(","):
        if case not in bench.CASES:
            parser.error(f"--cases: {case!r} is not a case; choose from {', '.join(bench.CASES)}")
    if args.steps < args.warmup + 2 * bench.WINDOW:
        parser.error(f"--steps {args.steps} holds no 2 timed windows; use ≥ warmup + {2 * bench.WINDOW}")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # a clean table: Lightning's tips and summaries are not results
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    drop_failing_nvml_probe()  # as a run does (train.py)
    skip_empty_hooks()
    device = torch.device("cpu")
    print(f"device={device} batch={args.batch} torch={torch.__version__} threads={torch.get_num_threads()}")
    print(
        f"{'case':40s} {'plain ms/step':>13s} {'bare adds':>10s} {'ratio':>6s} {'lab adds':>9s} {'ratio':>6s}"
    )
    for key in args.cases.split(","):
        name, overrides, shape = bench.CASES[key]
        with tempfile.TemporaryDirectory() as out:
            cfg = bench.diagnostics_at_run_cadence(
                bench._config([*overrides, "callbacks.progress_bar.refresh_rate=10"], args.batch, out)
            )
            data = bench._data(shape, args.batch * args.steps, device)
            timers: dict = {"bare": [], "lab": []}
            for _ in range(args.trials):  # alternating: both meet the same drift of the machine
                for side, fit in (("bare", bare), ("lab", lab)):
                    plain = bench.plain_windows(cfg, data, args.warmup, device, PLAIN_OPTS)
                    timers[side].append(fit(cfg, data, args.steps, args.warmup, device, plain))
        plain_ms = statistics.median(p for t in timers["bare"] + timers["lab"] for p in t.paired_plain)
        (bare_ms, bare_ratio), (lab_ms, lab_ratio) = added(timers["bare"]), added(timers["lab"])
        print(
            f"{name:40s} {plain_ms / bench.WINDOW * 1e3:13.3f} {bare_ms:+10.3f} {bare_ratio:6.3f} "
            f"{lab_ms:+9.3f} {lab_ratio:6.3f}"
        )


if __name__ == "__main__":
    main()
