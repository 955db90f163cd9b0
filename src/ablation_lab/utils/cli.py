"""The shared start of every CLI: refuse a bad command line in one line, else hand it to Hydra."""

import sys
from collections.abc import Callable
from pathlib import Path

from ablation_lab.errors import ConfigError
from ablation_lab.utils.preflight import preflight
from ablation_lab.utils.resolvers import register_resolvers

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"


def launch(tool: str, config_name: str, hydra_main: Callable[[], None]) -> None:
    """Check every job of the command line (preflight), then run `hydra_main`."""
    register_resolvers()
    try:
        preflight(CONF_DIR, config_name, sys.argv[1:])
    except ConfigError as err:
        sys.exit(f"{tool}: error: {err}")
    hydra_main()
