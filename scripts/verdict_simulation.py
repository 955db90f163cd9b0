"""Simulated sweeps whose truth is known, run through the report's own decision functions: the share
of null sweeps that crown a false winner (axes × seeds), the detection rate of a planted effect
next to what the power statement predicts, and the issue's three constructed cases.

    python scripts/verdict_simulation.py              # the report as it is now
    python scripts/verdict_simulation.py --before     # the report of commit 03e042f (before issue 15)

A run: true accuracy μ (0.97, or μ + δ in the planted cell) + a seed effect N(0, 0.004²) + the
evaluation noise of its test images (binomial: μ(1−μ)/359 for digits' 359 test images), rounded to
whole images; its validation curve wiggles by N(0, 0.002²) per epoch over 15 epochs on 270 images
around the same level, and val/acc_best is its maximum.
"""

import argparse
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BASE, SD_SEED, SD_EPOCH, EPOCHS, N_VAL, N_TEST = 0.97, 0.004, 0.002, 15, 270, 359
BEFORE = "03e042f"
HUGE = 10**7  # test images: evaluation noise negligible, the seeds' spread alone decides


def run(rng, mu: float, sd_epoch: float = SD_EPOCH, n_test: int = N_TEST) -> tuple[float, float]:
    """(val/acc_best, test/acc) of one simulated run."""
    level = mu + rng.normal(0, SD_SEED)
    curve = np.round((level + rng.normal(0, sd_epoch, EPOCHS)) * N_VAL) / N_VAL
    test = level + rng.normal(0, np.sqrt(mu * (1 - mu) / n_test))
    return float(curve.max()), float(np.round(test * n_test) / n_test)


def sweep(rng, shape: list[int], seeds: int, planted: tuple[int, float] | None = None, n_test: int = N_TEST):
    """Cells of a full grid (levels per axis in `shape`), each with `seeds` runs; `planted`: (cell
    index, δ). Returns [(levels, [(val, test), ...])], cell 0 (every axis at level 0) the control."""
    cells = []
    for i, combo in enumerate(itertools.product(*[range(k) for k in shape])):
        mu = BASE + (planted[1] if planted and planted[0] == i else 0.0)
        levels = {f"axis{a}": f"l{v}" for a, v in enumerate(combo)}
        cells.append((levels, [run(rng, mu, n_test=n_test) for _ in range(seeds)]))
    return cells


def label(levels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in levels.items())


class After:
    """The report's decisions now: test/acc, one family, a control, floored variance."""

    def __init__(self):
        from ablation_lab.report import verdicts

        self.v = verdicts

    def design(self, cells, n_test=N_TEST):
        return self.v.Design(
            [label(lv) for lv, _ in cells],
            [[t for _, t in runs] for _, runs in cells],
            [lv for lv, _ in cells],
            list(cells[0][0]),
            control=0,
            n_test=n_test,
        )

    def any_winner(self, cells, n_test: int = N_TEST) -> bool:
        return bool(self.v.decide([self.design(cells, n_test)], with_p=False).winners())

    def lines(self, cells) -> list[str]:
        from ablation_lab.report.wording import line

        s = self.v.decide([self.design(cells)]).sweeps[0]
        return [line(v, s) for v in s.verdicts]

    def detected(self, cells, planted: int, n_test: int = N_TEST) -> bool:
        d = self.v.decide([self.design(cells, n_test)], with_p=False)
        name = label(cells[planted][0])
        return any(v.kind == "control" and v.first == name and v.winner and v.diff > 0 for v in d.winners())

    def predicted(self, shape, seeds, delta, n_test: int = N_TEST) -> float:
        from ablation_lab.report import family, power
        from ablation_lab.report.stats import floor_variance

        arms = int(np.prod(shape))
        sets = len(self.design(sweep(np.random.default_rng(0), shape, seeds), n_test).sets())
        df = arms * (seeds - 1)
        crit = family.dunnett_critical(tuple([seeds] * (arms - 1)), seeds, df, 1 - 0.05 / sets)
        floor = floor_variance(BASE, n_test)
        sigma = np.sqrt(SD_SEED**2 + BASE * (1 - BASE) / n_test)
        return power.power(delta, sigma, seeds, seeds, df, crit, floor)


class Before:
    """The report's decisions at commit 03e042f: val/acc_best, best vs runner-up, Welch, 5% each."""

    def __init__(self):
        root = Path(__file__).resolve().parents[1]
        folder = Path(tempfile.mkdtemp()) / "before_report"
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for name in ("runs", "stats", "analysis"):
            text = subprocess.run(
                ["git", "show", f"{BEFORE}:src/ablation_lab/report/{name}.py"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            (folder / f"{name}.py").write_text(text.replace("ablation_lab.report.", "before_report."))
        sys.path.insert(0, str(folder.parent))
        from before_report import analysis, runs

        self.analysis, self.runs = analysis, runs

    def lines(self, cells) -> list[str]:
        runs = [
            self.runs.Run(
                Path("."),
                {"metrics": {"val/acc_best": v, "test/acc": t}, "choices": {**lv, "seed": s}},
                "done",
            )
            for lv, rs in cells
            for s, (v, t) in enumerate(rs)
        ]
        keys = self.runs.varying_keys(runs)
        rows = self.analysis.cell_table(self.runs.group_cells(runs, keys))
        lines = self.analysis.overall_verdict(rows)
        if len(keys) > 1:
            lines += [e.verdict for e in self.analysis.axis_effects(runs, keys)]
        return lines

    def folder_lines(self, sweep: Path) -> list[str]:
        """The verdict the old report gave for a real sweep folder."""
        done = [r for r in self.runs.load_runs(sweep) if r.status == "done"]
        keys = self.runs.varying_keys(done)
        lines = self.analysis.overall_verdict(self.analysis.cell_table(self.runs.group_cells(done, keys)))
        if len(keys) > 1:
            lines += [e.verdict for e in self.analysis.axis_effects(done, keys)]
        return lines

    def any_winner(self, cells, n_test: int = N_TEST) -> bool:
        return any(line.startswith("Winner") for line in self.lines(cells))

    def detected(self, cells, planted: int, n_test: int = N_TEST) -> bool:
        return any(
            line.startswith(f"Winner on val/acc_best: {label(cells[planted][0])},")
            for line in self.lines(cells)
        )

    def predicted(self, *args) -> float:
        return float("nan")  # the report made no power statement


def null_share(impl, axes: int, seeds: int, sims: int, n_test: int = N_TEST, seed: int = 0) -> float:
    """Share of null sweeps (`axes` 2-level axes, all runs from one distribution) with any winner."""
    rng = np.random.default_rng(seed)
    return float(
        np.mean([impl.any_winner(sweep(rng, [2] * axes, seeds, n_test=n_test), n_test) for _ in range(sims)])
    )


def detection(
    impl, delta: float, sims: int, shape=(12,), seeds: int = 3, n_test: int = N_TEST, seed: int = 1
) -> tuple[float, float]:
    """(rate the planted cell is called Winner over the control, the power statement's prediction)."""
    rng = np.random.default_rng(seed)
    planted = int(np.prod(shape)) - 1
    hits = [
        impl.detected(sweep(rng, list(shape), seeds, (planted, delta), n_test), planted, n_test)
        for _ in range(sims)
    ]
    return float(np.mean(hits)), impl.predicted(list(shape), seeds, delta, n_test)


def noisy_curve(seed: int = 2, seeds: int = 5) -> list:
    """Two arms with the same test and final-validation accuracy run for run; tanh's validation
    curve is noisier (0.006 vs 0.002 per epoch), so its maximum is higher."""
    rng = np.random.default_rng(seed)
    relu, tanh = [], []
    for _ in range(seeds):
        level = BASE + rng.normal(0, SD_SEED)
        test = float(np.round(level * N_TEST) / N_TEST)
        for arm, sd in ((relu, 0.002), (tanh, 0.006)):
            curve = np.round((level + rng.normal(0, sd, EPOCHS)) * N_VAL) / N_VAL
            arm.append((float(curve.max()), test))
    return [({"activation": "relu"}, relu), ({"activation": "tanh"}, tanh)]


def zero_spread() -> list:
    """Both seeds of each arm agree exactly, the arms one test image apart (346 vs 345 of 359)."""
    a, b = 346 / N_TEST, 345 / N_TEST
    return [({"activation": "relu"}, [(a, a), (a, a)]), ({"activation": "tanh"}, [(b, b), (b, b)])]


def early_stopping(seed: int = 2, seeds: int = 3) -> list:
    """none vs early_stopping (patience 1) on the same runs: a flat true accuracy, validation noise
    per epoch; early stopping keeps the curve up to its stop, so its maximum is never higher, and its
    checkpoint is tested like any other."""
    rng = np.random.default_rng(seed)
    none, stopped = [], []
    for _ in range(seeds):
        level = BASE + rng.normal(0, SD_SEED)
        val = np.round((level + rng.normal(0, 0.004, EPOCHS)) * N_VAL) / N_VAL
        test = np.round((level + rng.normal(0, 0.004, EPOCHS)) * N_TEST) / N_TEST
        stop = next((t for t in range(1, EPOCHS) if val[t] <= val[:t].max()), EPOCHS - 1)
        for arm, upto in ((none, EPOCHS), (stopped, stop + 1)):
            best = int(np.argmax(val[:upto]))
            arm.append((float(val[best]), float(test[best])))
    return [({"regularization": "none"}, none), ({"regularization": "early_stopping"}, stopped)]


CASES = {"noisy curve": noisy_curve, "zero spread": zero_spread, "early stopping": early_stopping}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", action="store_true", help=f"the report of commit {BEFORE}")
    parser.add_argument("--sims", type=int, default=400)
    parser.add_argument("--sweep", type=Path, help="print the old report's verdict for this sweep folder")
    args = parser.parse_args()
    impl = Before() if args.before else After()
    if args.sweep:
        if not args.before:
            parser.error("--sweep goes with --before (ablation-report gives today's verdict)")
        print("\n".join(impl.folder_lines(args.sweep)))
        return
    print(f"# {'before (' + BEFORE + ')' if args.before else 'after'}: {args.sims} simulated sweeps per row")
    for n_test, what in ((N_TEST, f"{N_TEST} test images"), (HUGE, "a test set so large its noise vanishes")):
        print(f"\nfalse-winner share under the null ({what}; 2-level axes; 1 axis = 2 cells)")
        print("| axes | 2 seeds | 3 seeds | 4 seeds | 5 seeds |\n|---|---|---|---|---|")
        for axes in (1, 2, 3, 4):
            shares = [null_share(impl, axes, s, args.sims, n_test, seed=10 * axes + s) for s in (2, 3, 4, 5)]
            print(f"| {axes} | " + " | ".join(f"{x:.3f}" for x in shares) + " |")
    print("\ndetection of a planted effect in one of 12 cells (vs the control cell)")
    print("| test images | δ | seeds | detected | power statement |\n|---|---|---|---|---|")
    for n_test, delta, seeds in (
        *itertools.product((N_TEST,), (0.005, 0.01, 0.02), (3, 5)),
        *itertools.product((HUGE,), (0.005, 0.01), (3, 5)),
    ):
        rate, predicted = detection(impl, delta, args.sims, seeds=seeds, n_test=n_test)
        print(f"| {n_test} | +{delta} | {seeds} | {rate:.3f} | {predicted:.3f} |")
    print("\nconstructed cases")
    for name, build in CASES.items():
        print(f"- {name}:\n  " + "\n  ".join(impl.lines(build())))


if __name__ == "__main__":
    main()
