"""Console entry points (pyproject's [project.scripts]). Light on purpose: the command line is
checked before torch and Lightning are imported, so a refused value answers at once."""

from ablation_lab.utils.cli import launch


def train() -> None:
    """ablation-train"""
    launch("ablation-train", "train", "ablation_lab.train", "ablation_lab.build:check_config")


def evaluate() -> None:
    """ablation-eval"""
    launch("ablation-eval", "eval", "ablation_lab.eval", "ablation_lab.eval:check_eval")


def diagnose() -> None:
    """ablation-diagnose"""
    launch(
        "ablation-diagnose",
        "diagnose",
        "ablation_lab.diagnostics.diagnose",
        "ablation_lab.build:check_config",
    )
