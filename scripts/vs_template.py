"""ablation-lab against lightning-hydra-template on the same MNIST-format files: training images/s and
seconds from process start to the first training step, runs interleaved (ours, theirs, ours, ...)
so both meet the same machine load; prints each side's median and the median of the paired ratios.

    python scripts/vs_template.py --template ~/lightning-hydra-template --template-python python3 \
        [--rounds 5] [--epochs 3] [--template-logger tensorboard]

The template runs its MNIST example at its defaults (`trainer=cpu`, its batch of 128, its
callbacks, no logger unless --template-logger, no test after training); ours runs its default
config (batch 64, TensorBoard, diagnostics) with an MLP of the template's size: depth 3, width 72,
batch norm, 68,194 parameters against its 67,978. Both read the same 5,000 training and 1,000 test
images (random pixels: speed does not depend on them) and use 1 thread. Nothing is added to either config: a
`sitecustomize` hook (scripts/vs_template/sitecustomize.py) times Lightning's training loop in
each process. `--template-python` needs the template's requirements (rootutils, rich,
hydra-colorlog besides ours).
"""

import argparse
import os
import statistics
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HOOK = Path(__file__).resolve().parent / "vs_template"
OURS_BIN = Path(sys.executable).parent / "ablation-train"
TRAIN, TEST = 5000, 1000


def write_mnist(root: Path, seed: int = 0) -> None:
    """MNIST's four idx files under root/MNIST/raw, as torchvision and ablation-lab read them."""
    rng, raw = np.random.default_rng(seed), root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", TRAIN), ("t10k", TEST)):
        pixels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes()
        labels = (np.arange(n) % 10).astype(np.uint8).tobytes()
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + pixels)
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels)


def commands(args, data: Path, out: Path, round_: int) -> dict[str, tuple[list[str], Path, int]]:
    """side → (command, working folder, images a batch)."""
    ours = [
        str(OURS_BIN),
        "data=mnist",
        f"data.root={data}",
        "model.depth=3",
        "model.width=72",
        "regularization=batchnorm",
        f"trainer.max_epochs={args.epochs}",
        "threads=1",
        f"hydra.run.dir={out}/ours/{round_}",
    ]
    theirs = [
        args.template_python,
        "src/train.py",
        "trainer=cpu",
        f"data.data_dir={data}",
        f"data.train_val_test_split=[{TRAIN},{TEST // 2},{TEST // 2}]",
        f"trainer.max_epochs={args.epochs}",
        f"hydra.run.dir={out}/theirs/{round_}",
        "test=false",  # after the timed training; its checkpoint load fails under torch ≥ 2.6 (weights_only)
        *([f"logger={args.template_logger}"] if args.template_logger else []),
    ]
    return {"ablation-lab": (ours, out, 64), "template": (theirs, args.template, 128)}


def run(command: list[str], cwd: Path, batch: int, side: str, results: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HOOK), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "OMP_NUM_THREADS": "1",
        "TTFS_OUT": str(results / "first_step"),
        "THRU_OUT": str(results / "images_per_s"),
        "TTFS_TAG": side,
        "THRU_BATCH": str(batch),
    }
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{side} failed ({' '.join(command)}):\n{proc.stderr[-2000:]}")


def read(path: Path) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        side, value = line.rsplit(" ", 1)
        values.setdefault(side, []).append(float(value))
    return values


def table(results: Path) -> list[str]:
    lines = ["measure                    ablation-lab   template   ratio (paired median, range)"]
    for name, label in (("images_per_s", "training images/s"), ("first_step", "first step, s")):
        values = read(results / name)
        ours, theirs = values["ablation-lab"], values["template"]
        ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
        lines.append(
            f"{label:26s} {statistics.median(ours):12.2f} {statistics.median(theirs):10.2f}   "
            f"{statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f}, {len(ratios)} pairs)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--template", type=Path, required=True, help="a lightning-hydra-template checkout")
    parser.add_argument("--template-python", default="python3", help="a python with its requirements")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--template-logger", default=None, help="e.g. tensorboard (ours logs to it)")
    args = parser.parse_args()
    if not (args.template / "src" / "train.py").is_file():
        parser.error(
            f"--template={args.template}: no src/train.py there (a lightning-hydra-template checkout)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_mnist(tmp / "data")
        (tmp / "out").mkdir()
        for round_ in range(args.rounds):
            for side, (command, cwd, batch) in commands(args, tmp / "data", tmp / "out", round_).items():
                run(command, cwd, batch, side, tmp)
        print("\n".join(table(tmp)))


if __name__ == "__main__":
    main()
