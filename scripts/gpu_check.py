"""The device check: what only a CUDA GPU can show, in one command that ends with a table.

    make gpu-check            # here (uses the project's venv)
    python3 scripts/gpu_check.py   # on a lent GPU machine: its own python3 with torch, lightning,
                                   # torchmetrics, tensorboard, scipy, matplotlib; the pure-Python
                                   # wheels it lacks (hydra-core, omegaconf, antlr4, joblib launcher)
                                   # come with the working tree in scripts/gpu_wheels/

On a machine without a CUDA GPU it says so in one line and exits 0. With one, in under 5 minutes:
the `gpu`-marked tests; images/s of a plain PyTorch loop vs the lab's trainer for the CNN and a
CIFAR ResNet-20 on CIFAR-shaped data at 32-true, bf16-mixed, bf16 + channels_last and + compile,
with peak GPU memory; seconds per epoch of a real run; a 1-GPU DDP run; a 4-cell sweep with 1, 2
and 4 jobs per GPU (cells per minute).
"""

import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "scripts" / "gpu_wheels"


def _missing_packages_path() -> str | None:
    """Unpack the carried wheels whose packages this python lacks; the folder to put on the path."""
    import importlib.util

    need = {"hydra": "hydra_core", "omegaconf": "omegaconf", "antlr4": "antlr4", "yaml": "PyYAML"}
    need |= {"joblib": "joblib", "hydra_plugins.hydra_joblib_launcher": "hydra_joblib_launcher"}
    need |= {"pytest": "pytest", "pluggy": "pluggy", "iniconfig": "iniconfig"}
    missing = []
    for module, dist in need.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(dist)
    if not missing:
        return None
    if "hydra_core" in missing or "omegaconf" in missing:  # their grammar needs antlr4 4.9 exactly
        missing.append("antlr4")
    site = Path(tempfile.mkdtemp(prefix="gpu_check_site_"))
    for archive in sorted(WHEELS.iterdir()):
        if not any(
            archive.name.lower().startswith(d.lower().replace("_", "-")) or archive.name.startswith(d)
            for d in missing
        ):
            continue
        if archive.suffix == ".whl":
            zipfile.ZipFile(archive).extractall(site)
        elif archive.name.endswith(".tar.gz"):  # antlr4's runtime ships as an sdist: its src/ is the package
            with tarfile.open(archive) as tar:
                tar.extractall(site / "sdist", filter="data")
            for src in (site / "sdist").glob("*/src"):
                for package in src.iterdir():
                    package.rename(site / package.name)
    return str(site)


def _env(extra_path: str | None) -> dict[str, str]:
    paths = [str(ROOT / "src"), *([extra_path] if extra_path else []), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), "HYDRA_FULL_ERROR": "0"}


def _train(env: dict[str, str], out: Path, *overrides: str) -> tuple[int, float, str]:
    """One `ablation-train` through its real entry point; (exit status, seconds, last line)."""
    code = "import sys; from ablation_lab.cli import train; sys.argv[0] = 'ablation-train'; train()"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, f"paths.log_dir={out}", *overrides],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return proc.returncode, time.perf_counter() - start, lines[-1] if lines else ""


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print(
            f"gpu-check: no CUDA GPU on this machine (torch {torch.__version__} sees none); nothing to check"
        )
        return 0
    site = _missing_packages_path()
    if site:
        sys.path[:0] = [str(ROOT / "src"), site]
    env = _env(site)
    rows: list[str] = [f"gpu-check: {torch.cuda.get_device_name(0)}, torch {torch.__version__}"]

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider", "tests"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    rows.append(f"gpu tests: {(tests.stdout.strip().splitlines() or ['(no output)'])[-1]}")

    sys.path.insert(0, str(ROOT / "scripts"))
    import argparse

    import bench

    for precision, channels_last, compiled in [
        ("32-true", False, False),
        ("bf16-mixed", False, False),
        ("bf16-mixed", True, False),
        ("bf16-mixed", True, True),
    ]:
        args = argparse.Namespace(
            device="cuda",
            batch=256,
            steps_mlp=100,
            steps_cnn=60,
            warmup=15,
            trials=2,
            precision=precision,
            channels_last=channels_last,
            compile=compiled,
            cases="cnn,resnet20",
        )
        torch.cuda.reset_peak_memory_stats()
        try:
            table = bench.run(args)
            peak = torch.cuda.max_memory_allocated() / 2**20
            rows += [*table[1:], f"  peak GPU memory {peak:.0f} MiB"]
        except Exception as err:  # one setting failing must not hide the others
            rows.append(
                f"{precision} cl={channels_last} compile={compiled}: failed: {type(err).__name__}: {err}"
            )

    with tempfile.TemporaryDirectory() as out:
        for name, overrides in [
            ("epoch, trainer=gpu cnn", ["trainer=gpu", "model=cnn", "trainer.max_epochs=2"]),
            (
                "1-GPU DDP run",
                ["trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=1", "trainer.max_epochs=2"],
            ),
        ]:
            status, seconds, last = _train(env, Path(out), *overrides)
            rows.append(
                f"{name}: exit {status}, {seconds:.1f} s ({seconds / 2:.1f} s/epoch incl. start-up): {last}"
            )
        for per_gpu in (1, 2, 4):
            status, seconds, _ = _train(
                env,
                Path(out),
                "-m",
                "hydra/launcher=joblib",
                f"jobs_per_gpu={per_gpu}",
                "trainer=gpu",
                "seed=0,1,2,3",
                "trainer.max_epochs=3",
            )
            rows.append(
                f"4-cell sweep, {per_gpu} job(s) per GPU: exit {status}, {4 / seconds * 60:.1f} cells/min"
            )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
