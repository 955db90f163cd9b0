"""A user's data through the real commands, as the README gives them: an image folder and an .npz
trained and swept (the decode cache written once, by the launching process, and reused), and the
data a run cannot use refused with exit 2 and one line before any run folder exists."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bad_files
from fake_datasets import write_image_folder, write_mnist, write_npz

BIN = Path(sys.executable).parent
FAST = [
    "trainer.max_epochs=1",
    "model.width=16",
    "trainer.accelerator=cpu",
    "callbacks.progress_bar.refresh_rate=0",
]

pytestmark = pytest.mark.slow


def ablation_train(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [str(BIN / "ablation-train"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def caches(cwd: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (cwd / "data" / "cache").rglob("*") if p.is_file()}


def test_an_image_folder_and_an_npz_train_and_sweep_with_the_readme_commands(tmp_path):
    write_image_folder(tmp_path / "pets", classes=("cat", "dog", "fox", "owl"), per_class=10)
    write_npz(tmp_path / "arrays.npz", n=60, hw=(10, 10), channels=3, classes=3)

    single = ablation_train(tmp_path, "data=image_folder", "data.root=pets", *FAST)
    assert single.returncode == 0, single.stderr[-2000:]
    assert single.stderr.count("data=image_folder: decoding 40 images of 4 classes") == 1
    cache = caches(tmp_path)
    assert len(cache) == 1 and next(iter(cache)).endswith(".npz")  # one file, no temporary left

    sweep = ablation_train(tmp_path, "-m", "data=image_folder", "data.root=pets", "seed=0,1", *FAST)
    assert sweep.returncode == 0, sweep.stderr[-2000:]
    assert "decoding" not in sweep.stderr and caches(tmp_path) == cache  # reused, not rewritten
    records = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("logs/multiruns/*/*/metrics.json"))]
    assert [r["status"] for r in records] == ["done", "done"]
    assert len({r["data_fingerprint"] for r in records}) == 1

    arrays = ablation_train(tmp_path, "-m", "data=npz", "data.path=arrays.npz", "seed=0,1", *FAST)
    assert arrays.returncode == 0, arrays.stderr[-2000:]
    fingerprints = {
        json.loads(p.read_text())["data_fingerprint"]
        for p in tmp_path.glob("logs/multiruns/*/*/metrics.json")
    }
    assert len(fingerprints) == 2  # the image folder's and the npz's


def _setups(tmp: Path) -> dict:
    """Name → (make the files, command-line arguments, what the one line says)."""
    return {
        "truncated MNIST, train_size too large": (
            lambda: write_mnist(tmp / "mnist", n_train=500, n_test=100),
            ["data=mnist", "data.root=mnist", "data.train_size=20000"],
            "data.train_size=20000 but mnist under data.root='mnist' has 450 training images",
        ),
        "a root without the dataset": (
            lambda: (tmp / "elsewhere").mkdir(),
            ["data=mnist", "data.root=elsewhere"],
            "no MNIST files under data.root='elsewhere'",
        ),
        "MNIST with fewer labels than images": (
            lambda: (
                write_mnist(tmp / "short", n_train=200)
                or bad_files.mnist_file(tmp / "short", "train-labels-idx1-ubyte", "short_labels")
            ),
            ["data=mnist", "data.root=short"],
            "it holds 150 labels for the 200 images",
        ),
        "an npz with pickled objects": (
            lambda: bad_files.npz_with_objects(tmp / "objects.npz", tmp / "PAYLOAD_RAN"),
            ["data=npz", "data.path=objects.npz"],
            "array 'images' holds Python objects",
        ),
        "an npz of float images": (
            lambda: bad_files.npz_float_images(tmp / "floats.npz"),
            ["data=npz", "data.path=floats.npz"],
            "array 'images' is float64; it must be uint8",
        ),
        "an npz with fewer labels than images": (
            lambda: bad_files.npz_short_labels(tmp / "short.npz"),
            ["data=npz", "data.path=short.npz"],
            "holds 150 labels for the 200 images",
        ),
        "an empty image folder": (
            lambda: (tmp / "empty").mkdir(),
            ["data=image_folder", "data.root=empty"],
            "data.root='empty' holds no class folders of PNG/JPEG images",
        ),
        "a folder with one class": (
            lambda: write_image_folder(tmp / "one", classes=("cat",)),
            ["data=image_folder", "data.root=one"],
            "data.root='one' holds one class folder ('cat')",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated MNIST, train_size too large",
        "a root without the dataset",
        "MNIST with fewer labels than images",
        "an npz with pickled objects",
        "an npz of float images",
        "an npz with fewer labels than images",
        "an empty image folder",
        "a folder with one class",
    ],
)
def test_data_a_run_cannot_use_is_refused_with_exit_2_and_one_line(tmp_path, case):
    make, args, says = _setups(tmp_path)[case]
    make()
    proc = ablation_train(tmp_path, *args, *FAST)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ablation-train: error: ") and says in lines[0], (
        proc.stderr
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "logs").exists() and not (tmp_path / "data" / "cache").exists()
    assert not (tmp_path / "PAYLOAD_RAN").exists()  # the .npz was read with allow_pickle=False
