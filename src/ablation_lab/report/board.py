"""The report's verdict in TensorBoard too (TEXT tab, tag report/verdict, at the sweep folder's root),
so that whoever reads the sweep there reads the same Winner / Tie lines as report.md."""

from pathlib import Path

SUFFIX = ".verdict"


def write_board(folder: Path, verdict: str) -> None:
    """Replace the folder's verdict event file with one holding `verdict` (Markdown)."""
    from torch.utils.tensorboard import SummaryWriter

    for old in Path(folder).glob(f"events.out.tfevents.*{SUFFIX}"):
        old.unlink()
    writer = SummaryWriter(log_dir=str(folder), filename_suffix=SUFFIX)
    writer.add_text("report/verdict", verdict, global_step=0)
    writer.close()
