"""A small real sweep read back as a researcher reads it: the report's numbers recomputed from the
runs' metrics.json, its verdict checked against scipy's test, the HPARAMS experiment, the verdict and
the scalars TensorBoard will show read from the event files, ablation-report on one and two folders.
(The statistics themselves are tested fast, without training: tests/test_verdict_*.py.)"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from ablation_lab.report.stats import floor_variance

import tb_events

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def ablation(cwd: Path, tool: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("sweep")
    args = ["-m", "activation=relu,sigmoid", "seed=0,1,2", "trainer.max_epochs=3", "trainer.accelerator=cpu"]
    proc = ablation(cwd, "ablation-train", *args, "callbacks.progress_bar.refresh_rate=0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder,) = (cwd / "logs" / "multiruns").iterdir()
    return folder


def records(sweep: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(sweep.glob("*/metrics.json"))}


def test_cell_folders_are_numbered_to_sort_and_named_by_what_varies(sweep):
    names = sorted(records(sweep))
    assert names == [
        f"{i:03d}_activation={a},seed={s}"
        for i, (a, s) in enumerate((a, s) for a in ("relu", "sigmoid") for s in (0, 1, 2))
    ]


def test_report_numbers_are_recomputed_from_the_runs(sweep):
    """Mean, std and the 95% interval over seeds; test/acc's interval is at least the evaluation
    noise of digits' 359 test images (acc(1−acc)/359 per run)."""
    runs = records(sweep).values()
    with open(sweep / "report.csv") as f:
        rows = {row["activation"]: row for row in csv.DictReader(f)}
    for activation in ("relu", "sigmoid"):
        for metric in ("val/acc_best", "test/acc"):
            values = [r["metrics"][metric] for r in runs if r["choices"]["activation"] == activation]
            mean, sd = sum(values) / 3, stats.tstd(values)
            var = max(sd**2, floor_variance(mean, 359)) if metric == "test/acc" else sd**2
            half = stats.t.ppf(0.975, 2) * var**0.5 / 3**0.5
            row = rows[activation]
            assert float(row[f"{metric} mean"]) == pytest.approx(mean)
            assert float(row[f"{metric} std"]) == pytest.approx(sd)
            assert float(row[f"{metric} low"]) == pytest.approx(mean - half)
            assert float(row[f"{metric} high"]) == pytest.approx(mean + half)


def test_the_verdict_tests_test_acc_against_the_control_of_defaults(sweep):
    """relu is the config's default: the control. With one comparison Dunnett's test is the pooled
    t-test (scipy), on the variance floored at the evaluation noise."""
    runs = records(sweep).values()
    test = {
        a: [r["metrics"]["test/acc"] for r in runs if r["choices"]["activation"] == a]
        for a in ("relu", "sigmoid")
    }
    means = {a: sum(v) / 3 for a, v in test.items()}
    pooled = (stats.tvar(test["relu"]) + stats.tvar(test["sigmoid"])) / 2
    floor = (floor_variance(means["relu"], 359) + floor_variance(means["sigmoid"], 359)) / 2
    sd = max(pooled, floor) ** 0.5
    t = stats.ttest_ind_from_stats(means["sigmoid"], sd, 3, means["relu"], sd, 3, equal_var=True)
    report = (sweep / "report.md").read_text()
    verdict = report.split("## Verdict")[1].split("##")[0]
    assert "Control: activation=relu (the config's defaults)" in report
    assert "Score: test/acc, the test accuracy of the checkpoint validation chose" in report
    assert t.pvalue < 0.05  # relu ≫ sigmoid after 3 epochs
    assert "Winner vs the control: activation=relu (the control) over activation=sigmoid" in verdict
    assert f"Dunnett adjusted p={t.pvalue:.2g}," in verdict
    assert "Family: 1 comparison in 1 set (1 vs the control (Dunnett))" in report


def test_report_html_is_one_self_contained_page_with_its_figures(sweep):
    page = (sweep / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 3  # cells, learning curves, init diagnostics
    assert "src='http" not in page and "href=" not in page
    assert {p.name for p in (sweep / "report").iterdir()} == {"cells.png", "curves.png", "init.png"}


def _experiment(sweep: Path):
    acc = EventAccumulator(str(sweep))
    acc.Reload()
    for blob in acc.PluginTagToContent("hparams").values():
        data = plugin_data_pb2.HParamsPluginData.FromString(blob)
        if data.HasField("experiment"):
            return data.experiment
    return None


def test_the_hparams_experiment_ticks_the_swept_axes_and_the_seed_and_lists_the_metrics(sweep):
    experiment = _experiment(sweep)
    assert {(h.name, h.differs) for h in experiment.hparam_infos} == {("activation", True), ("seed", True)}
    assert [m.name.tag for m in experiment.metric_infos] == ["val/acc_best", "test/acc", "val/loss"]
    for run in records(sweep):  # no run carries an experiment of its own (that would hide the axes)
        assert _experiment(sweep / run) is None
        hparams = tb_events.hparams(sweep / run)
        assert {"activation", "seed", "optim.optimizer.lr", "trainer.max_epochs"} <= set(hparams)
        assert isinstance(hparams["seed"], float)  # sorts as a number


def test_the_runs_scalars_open_on_results_and_diagnostics_are_curves(sweep):
    run = sweep / sorted(records(sweep))[0]
    tags = set(tb_events.load(run).Tags()["scalars"])
    assert {"val/acc", "val/acc_best", "test/acc", "train/loss", "train/lr"} <= tags
    assert not tags & {"epoch", "hp_metric"} and not any(t.startswith("lr-") for t in tags)
    assert min(tags) < "z" and max(tags).startswith("z_diag/")  # results sort before diagnostics
    measured = tb_events.scalars(run, "z_diag/act_std/layer_01")
    assert 15 <= len(measured) <= 25  # step 0 and ~20 evenly spaced steps, for a 57-step run
    assert len(tb_events.load(run).Histograms("z_diag/act_hist/layer_01")) == len(measured)


def test_ablation_report_rebuilds_one_sweep_and_compares_two(sweep, tmp_path):
    (sweep / "report.md").unlink()
    proc = ablation(tmp_path, "ablation-report", str(sweep))
    assert proc.returncode == 0, proc.stderr
    assert (sweep / "report.md").is_file() and "Winner vs the control" in proc.stdout
    other = tmp_path / "other"
    other.mkdir()
    for run in sorted(records(sweep))[:3]:  # the relu cell only
        (other / run).mkdir()
        (other / run / "metrics.json").write_text((sweep / run / "metrics.json").read_text())
    proc = ablation(tmp_path, "ablation-report", str(sweep), str(other), "--out", str(tmp_path / "cmp"))
    assert proc.returncode == 0, proc.stderr
    comparison = (tmp_path / "cmp" / "report.md").read_text()
    across = comparison.split("## Across sweeps")[1].split("##")[0]
    assert "activation=relu" in across and "+0.0000" in across  # the same runs: no change
    bad = ablation(tmp_path, "ablation-report", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "is not a sweep folder" in bad.stderr


def test_an_unfinished_sweep_is_reported_with_the_unfinished_runs_apart(sweep, tmp_path):
    copy = tmp_path / "unfinished"
    for run, record in records(sweep).items():
        (copy / run).mkdir(parents=True)
        (copy / run / "metrics.json").write_text(json.dumps(record))
    killed = copy / sorted(records(sweep))[-1] / "metrics.json"
    killed.write_text(
        json.dumps({"status": "running", "pid": 2**22 + 7, "host": os.uname().nodename, "choices": {}})
    )
    proc = ablation(tmp_path, "ablation-report", str(copy))
    assert proc.returncode == 0, proc.stderr
    report = (copy / "report.md").read_text()
    assert "Not counted: 1 of 6 runs did not finish" in report and ": killed" in report
    assert "| sigmoid | 2 |" in report
