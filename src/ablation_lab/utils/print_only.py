"""Hydra's printing commands (--help, --hydra-help, --cfg, --info, shell completion) without the
training stack: the same config tree, a task function that never runs, so help answers in well
under a second instead of importing torch and Lightning first."""

import hydra
from omegaconf import DictConfig

from ablation_lab.utils.cli import CONF_DIR


def print_only(config_name: str, argv: list[str]) -> None:
    """Run Hydra's command line on `config_name` for a command that only prints; the project's
    --help is printed directly (Hydra would list every config group first: seconds, unused)."""
    if (
        argv
        and argv[0] in ("--help", "-h")
        and not any(a.lstrip("+~").startswith("hydra.help") for a in argv)
    ):
        from ablation_lab.utils.help_text import project_help

        print(project_help(config_name))
        return

    @hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=config_name)
    def _prints(cfg: DictConfig) -> None:  # Hydra calls no task function for these flags
        raise RuntimeError("print_only ran a task")

    _prints()
