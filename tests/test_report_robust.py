"""The end of a sweep never fails silently: a label with TeX in it is drawn as text, a hand-edited
NaN reads as a missing value, a report that cannot be written says so and the exit status is not 0,
and `--out` naming a file is refused."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BIN = Path(sys.executable).parent
QUIET = ["callbacks.progress_bar.refresh_rate=0", "trainer.accelerator=cpu", "trainer.max_epochs=1"]


def _run(cwd: Path, tool: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def tex_sweep(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("tex")
    proc = _run(cwd, "ablation-train", "-m", "tags=[a$\\frac$],[b]", "activation=relu,tanh", *QUIET)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sweep,) = (cwd / "logs" / "multiruns").iterdir()
    return sweep


@pytest.mark.slow
def test_a_label_with_tex_in_it_gets_its_report(tex_sweep):
    assert (tex_sweep / "report.md").is_file() and (tex_sweep / "report.html").is_file()
    assert not (tex_sweep / "report_error.log").exists()


@pytest.mark.slow
def test_a_nan_in_a_metrics_file_reads_as_missing(tex_sweep, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(tex_sweep, sweep)
    first = sorted(sweep.glob("*/metrics.json"))[0]
    record = json.loads(first.read_text())
    record["metrics"]["test/acc"] = float("nan")
    first.write_text(json.dumps(record))  # json writes NaN, as a hand edit would
    proc = _run(tmp_path, "ablation-report", str(sweep))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_report_out_naming_a_file_is_refused(tex_sweep, tmp_path):
    (tmp_path / "a_file").write_text("mine")
    proc = _run(
        tmp_path, "ablation-report", str(tex_sweep), str(tex_sweep), "--out", str(tmp_path / "a_file")
    )
    assert proc.returncode == 2 and proc.stderr.startswith("ablation-report: error: --out")
    assert (tmp_path / "a_file").read_text() == "mine"


def test_a_report_that_cannot_be_written_fails_the_sweep(tmp_path, monkeypatch, capsys):
    from omegaconf import OmegaConf

    from ablation_lab.report import build, callback, runs
    from ablation_lab.utils import run_record

    def broken(sweep, control=None):
        raise ValueError("cannot draw")

    run = SimpleNamespace(record={}, status="done", folder=tmp_path / "000_a")
    monkeypatch.setattr(runs, "load_runs", lambda sweep: [run])  # imported when a sweep ends
    monkeypatch.setattr(build, "write_report", broken)
    monkeypatch.setattr(run_record, "FAILED", [])
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    callback.SweepReport().on_multirun_end(config)
    assert run_record.FAILED == [f"{tmp_path} (report)"]
    assert "ablation-report: error: ValueError: cannot draw" in capsys.readouterr().err
    assert "cannot draw" in (tmp_path / "report_error.log").read_text()
