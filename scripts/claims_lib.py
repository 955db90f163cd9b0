"""What every claim of scripts/claims.py needs: the real config tree, short trainings in temporary
folders, per-seed numbers with their statistics, and one verdict line per claim."""

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from ablation_lab.report.stats import summarize, welch
from ablation_lab.train import CONF_DIR, train

QUIET = [
    "callbacks.progress_bar.refresh_rate=0",
    "callbacks.model_summary.max_depth=0",
    "trainer.accelerator=cpu",
]


@dataclass(frozen=True)
class Budget:
    """How much training the trained claims get: `full` for the numbers we report, `quick` for CI."""

    seeds: tuple[int, ...]
    scale: float  # fraction of each claim's full epoch count

    def epochs(self, full: int) -> int:
        return max(2, round(full * self.scale))


BUDGETS = {"full": Budget((0, 1, 2), 1.0), "quick": Budget((0,), 0.34)}


def config(*overrides: str, out: str | None = None, name: str = "diagnose"):
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        paths = [f"paths.output_dir={out}"] if out else []
        return compose(name, overrides=[*QUIET, *paths, *overrides])


def fit(*overrides: str) -> tuple[dict, Path]:
    """Train one run in a temporary folder (removed at exit); its metrics and folder."""
    out = tempfile.mkdtemp(prefix="claims-")
    atexit.register(shutil.rmtree, out, True)
    return train(config(*overrides, out=out)), Path(out)


def fit_seeds(budget: Budget, *overrides: str, metric: str = "test/acc") -> list[float]:
    """`metric` of one run per seed of the budget."""
    return [fit(*overrides, f"seed={seed}")[0][metric] for seed in budget.seeds]


def describe(values: list[float]) -> str:
    s = summarize(values)
    interval = f" [{s.low:.4f}, {s.high:.4f}]" if s.low is not None else ""
    return f"{s.mean:.4f} ± {s.std:.4f}{interval} (n={s.n})"


def compare(a: list[float], b: list[float]) -> str:
    c = welch(a, b)
    if c.p is None:
        return f"{c.diff:+.4f} (one seed: no test)"
    return f"{c.diff:+.4f} [{c.low:+.4f}, {c.high:+.4f}], Welch p={c.p:.3g}"


def beyond_noise(a: list[float], b: list[float]) -> bool:
    """mean(a) > mean(b) by a one-claim Welch test at 0.05 (each claim is its own question, so no
    family correction; the report's verdicts correct over a sweep's family instead)."""
    c = welch(a, b)
    return c.p is not None and c.p < 0.05 and c.diff > 0


def verdict(name: str, ok: bool, why: str = "") -> bool:
    print(f"claim {name}: {'CONFIRMED' if ok else 'NOT CONFIRMED'}{f' ({why})' if why else ''}\n")
    return ok
