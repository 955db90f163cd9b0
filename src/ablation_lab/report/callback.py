"""Hydra callback: when a sweep ends, write its report and its HPARAMS experiment, print the
verdict (also written to TensorBoard), and make the exit status say whether some cells did not finish."""

import logging
import sys
import traceback
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ablation_lab.utils import run_record

log = logging.getLogger("ablation_lab")


class SweepReport(Callback):
    """`control`: the cell the others are compared with (e.g. "activation=relu"); None: the cell of
    the config's defaults (hydra.callbacks.sweep_report.control in the config)."""

    def __init__(self, control: str | None = None) -> None:
        self.control = control

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        """Hydra logs and ignores a callback's exception: a report that cannot be written is said in
        one line, its traceback goes to <sweep>/report_error.log, and the exit status is not 0."""
        sweep = Path(config.hydra.sweep.dir)
        try:
            self._report(sweep)
        except Exception as err:  # noqa: BLE001 (every failure must reach the exit status)
            (sweep / "report_error.log").write_text(traceback.format_exc())
            print(
                f"ablation-report: error: {run_record.one_line(err)} ({sweep / 'report_error.log'})",
                file=sys.stderr,
            )
            run_record.FAILED.append(f"{sweep} (report)")

    def _report(self, sweep: Path) -> None:
        # Imported here, at a sweep's end: Hydra builds this callback for every run, and the report's
        # modules (scipy.stats among them) took ~0.3 s before a single run's first step.
        from ablation_lab.report.build import write_report
        from ablation_lab.report.runs import load_runs
        from ablation_lab.utils.tb_views import write_experiment

        runs = load_runs(sweep)
        if not runs:
            return
        rows = [r.record["hparams"] for r in runs if r.record.get("hparams")]
        if rows:
            write_experiment(sweep, rows)
        report = write_report(sweep, self.control)
        print(f"\n{report.verdict}\n\nreport: {report.path}  {report.path.with_suffix('.html')}")
        # workers of parallel launchers recorded their failures in metrics.json, not in this process
        run_record.FAILED.extend(str(r.folder) for r in runs if r.status != "done")
