"""The shared start of every CLI: Hydra's own flags pass through, a bad command line is refused in
one line (exit 2) before torch is imported, and only then is the tool's module loaded and run."""

import importlib
import sys
from pathlib import Path

from hydra._internal.utils import get_args_parser

from ablation_lab.errors import EXIT_FAILED, EXIT_REFUSED, ConfigError
from ablation_lab.utils import run_record
from ablation_lab.utils.preflight import preflight
from ablation_lab.utils.resolvers import register_resolvers

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"
# Flags with which Hydra prints something instead of running: nothing to check.
_INFORMATIONAL = ("help", "hydra_help", "shell_completion", "info", "cfg")
# Values that name files or folders: run folders are named `key=value,...`, which Hydra's grammar
# would parse, so such values are quoted for it.
PATH_KEYS = ("ckpt_path", "data_root", "init.path", "data.root", "paths.", "hydra.run.dir", "hydra.sweep.dir")


def quote_paths(args: list[str]) -> list[str]:
    """Quote the value of a path override that holds '=' (a run folder), so Hydra reads it whole."""
    quoted = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+~").startswith(PATH_KEYS) and "=" in value and value[:1] not in "'\"":
            arg = f"{key}='{value.replace(chr(39), chr(92) + chr(39))}'"
        quoted.append(arg)
    return quoted


def refuse(tool: str, err: Exception) -> None:
    print(f"{tool}: error: {err}", file=sys.stderr)
    sys.exit(EXIT_REFUSED)


def launch(tool: str, config_name: str, module: str, deep_check: str) -> None:
    """Check every job of the command line (preflight, `deep_check` its torch-side stage), then run
    `module`'s Hydra main; exit 1 if a run of it failed."""
    register_resolvers()
    sys.argv[1:] = quote_paths(sys.argv[1:])
    args, _ = get_args_parser().parse_known_args(sys.argv[1:])
    if args.experimental_rerun:
        why = "--experimental-rerun loads a pickle, which can run code"
        refuse(tool, ConfigError(f"{why}; rerun with the overrides in <run>/.hydra/overrides.yaml"))
    if not any(getattr(args, flag) for flag in _INFORMATIONAL):
        try:
            preflight(CONF_DIR, args.config_name or config_name, args.overrides, deep_check)
        except ConfigError as err:
            refuse(tool, err)
    importlib.import_module(module).hydra_entry()
    if run_record.FAILED:
        sys.exit(EXIT_FAILED)
