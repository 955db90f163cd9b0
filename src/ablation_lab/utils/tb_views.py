"""What TensorBoard shows first, written so that it opens on the answer.

A "Results" layout in the Custom Scalars tab (accuracy and loss, train/val/test on one chart each).
The HPARAMS tab: each run writes only its
session (its hparams and, at the end, its status), and the sweep writes one experiment at its root
that names every hparam with `differs` (so the swept axes and the seed are the ticked columns) and
the metric columns val/acc_best, test/acc and val/loss. Lightning's log_hyperparams writes an
experiment into every run with differs=false for every key, which hides the axes."""

import time
from pathlib import Path

from lightning.fabric.utilities.logger import _add_prefix
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.summary.writer import record_writer
from torch import Tensor
from torch.utils.tensorboard.summary import hparams as torch_hparams

METRICS = ("val/acc_best", "test/acc", "val/loss")
RESULTS_LAYOUT = {
    "Results": {
        "accuracy": ["Multiline", ["train/acc", "val/acc", "val/acc_best", "test/acc"]],
        "loss": ["Multiline", ["train/loss", "val/loss", "test/loss"]],
        "learning rate": ["Multiline", ["train/lr"]],
    }
}


def fast_event_checksums() -> bool:
    """Event records checksummed by google-crc32c's C code instead of TensorBoard's pure-Python
    CRC-32C (~1.2 ms per 8 KB, on the writer's thread but holding the GIL: a diagnostics step's
    histograms slowed the next training step by ~2.5 ms). The same checksum; TensorBoard's own is
    kept where google-crc32c is missing or has no C build. True when the fast one is in use."""
    try:
        import google_crc32c
    except ImportError:
        return False
    if google_crc32c.implementation != "c":
        return False
    record_writer.masked_crc32c = _masked_crc32c
    return True


def _masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C (tensorflow_stub.pywrap_tensorflow.masked_crc32c), in C."""
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class RunLogger(TensorBoardLogger):
    """Lightning's TensorBoard logger without the `epoch` scalar Lightning adds to every log call
    (it would be the first chart TensorBoard shows; metrics are per epoch already), writing each
    call's scalars as one event: torch's writer queues one event per `add_scalar` in a queue of 10,
    so a burst (the diagnostics' ~20 scalars) waited on its writer thread, ~70 µs a scalar."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fast_event_checksums()

    @rank_zero_only
    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        metrics = _add_prefix(
            {k: v for k, v in metrics.items() if k != "epoch"}, self._prefix, self.LOGGER_JOIN_CHAR
        )
        groups = {k: v for k, v in metrics.items() if isinstance(v, dict)}  # add_scalars: its own runs
        values = [scalar_value(k, v) for k, v in metrics.items() if k not in groups]
        if values:
            self.experiment._get_file_writer().add_summary(Summary(value=values), step)
        for k, v in groups.items():
            self.experiment.add_scalars(k, v, step)


def scalar_value(tag: str, value) -> Summary.Value:
    """What SummaryWriter.add_scalar writes for one scalar (a float `simple_value`)."""
    try:
        return Summary.Value(
            tag=tag, simple_value=float(value.item() if isinstance(value, Tensor) else value)
        )
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{tag}={value!r} is not a scalar; only numbers and 1-element tensors log") from err


def results_layout(writer) -> None:
    """The Custom Scalars tab's "Results" charts for this run."""
    writer.add_custom_scalars(RESULTS_LAYOUT)


def _summary(tag: str, **data) -> Summary:
    content = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **data)
    plugin = SummaryMetadata.PluginData(plugin_name=metadata.PLUGIN_NAME, content=content.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def typed(value):
    """A command-line value as TensorBoard should sort it: a number when it reads as one."""
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    return value


def session_start(writer, hparams: dict) -> None:
    """This run's row of the HPARAMS table (writer: the run's torch SummaryWriter). torch's
    `hparams` builds it; its experiment is left out (the sweep writes one, write_experiment)."""
    _, start, _ = torch_hparams({k: typed(v) for k, v in hparams.items()}, {})
    writer._get_file_writer().add_summary(start)


def session_end(writer) -> None:
    """This run's row is complete (status success)."""
    _, _, end = torch_hparams({}, {})
    writer._get_file_writer().add_summary(end)
    writer.flush()


def _info(key: str, values: list) -> api_pb2.HParamInfo:
    values = [typed(v) for v in values]
    distinct = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in distinct)
    kind = api_pb2.DATA_TYPE_FLOAT64 if numeric else api_pb2.DATA_TYPE_STRING
    info = api_pb2.HParamInfo(name=key, type=kind, differs=len(distinct) > 1)
    info.domain_discrete.extend(float(v) if numeric else str(v) for v in distinct)
    return info


def write_experiment(sweep_dir: Path, rows: list[dict]) -> None:
    """The sweep's HPARAMS experiment, at its root: the keys whose value changes between runs (the
    swept axes and the seed) with `differs`, and the metric columns."""
    from torch.utils.tensorboard import SummaryWriter

    keys = list(dict.fromkeys(k for row in rows for k in row))
    infos = [_info(k, [row.get(k, "") for row in rows]) for k in keys]
    # only what varies: TensorBoard ticks the first columns it is given (the report states the rest)
    infos = [i for i in infos if i.differs] or infos
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=m)) for m in METRICS]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=time.time())
    writer = SummaryWriter(log_dir=str(sweep_dir), filename_suffix=".hparams")
    writer._get_file_writer().add_summary(_summary(metadata.EXPERIMENT_TAG, experiment=experiment))
    writer.close()
