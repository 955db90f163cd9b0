"""Read what TensorBoard would show from a run folder's event files."""

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def load(run_dir: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def scalars(run_dir: Path, tag: str) -> list[float]:
    return [s.value for s in load(run_dir).Scalars(tag)]


def hparams(run_dir: Path) -> dict[str, object]:
    """The hparams of the HPARAMS tab's session for this run."""
    content = load(run_dir).PluginTagToContent("hparams")
    for blob in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(blob)
        if data.HasField("session_start_info"):
            info = data.session_start_info.hparams
            return {
                k: v.string_value if v.HasField("string_value") else v.number_value for k, v in info.items()
            }
    return {}
