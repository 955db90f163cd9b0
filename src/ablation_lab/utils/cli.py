"""The shared start of every CLI: Hydra's own flags pass through, a bad command line is refused in
one line (exit 2) before torch is imported, and only then is the tool's module loaded and run.

For a sweep, the launching process also fixes the sweep folder and each job's share of the cores
(sweep/launching.py); `ckpt_path=<run>/checkpoints/last.ckpt` resumes that run in its folder."""

import importlib
import signal
import sys
import warnings
from pathlib import Path

from hydra._internal.utils import get_args_parser

from ablation_lab.errors import EXIT_FAILED, EXIT_REFUSED, ConfigError
from ablation_lab.sweep.launching import resume_overrides, sweep_overrides
from ablation_lab.utils import run_record
from ablation_lab.utils.preflight import preflight
from ablation_lab.utils.resolvers import register_resolvers
from ablation_lab.utils.run_files import print_config_tree

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"
# Flags with which Hydra prints something instead of running: nothing to check.
_INFORMATIONAL = ("help", "hydra_help", "shell_completion", "info", "cfg")
# Values that name files or folders: run folders are named `key=value,...`, which Hydra's grammar
# would parse, so such values are quoted for it.
QUOTES = ("'", '"')
PATH_KEYS = ("ckpt_path", "data_root", "init.path", "data.root", "paths.", "hydra.run.dir", "hydra.sweep.dir")


def quote_paths(args: list[str]) -> list[str]:
    """Quote the value of a path override that holds '=' (a run folder), so Hydra reads it whole."""
    quoted = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+~").startswith(PATH_KEYS) and "=" in value and value[:1] not in QUOTES:
            arg = f"{key}='{value.replace(chr(39), chr(92) + chr(39))}'"
        quoted.append(arg)
    return quoted


def _unquoted(value: str) -> str:
    return (
        value[1:-1].replace("\\'", "'")
        if len(value) > 1 and value[0] == value[-1] and value[0] in QUOTES
        else value
    )


def refuse(tool: str, err: Exception) -> None:
    print(f"{tool}: error: {err}", file=sys.stderr)
    sys.exit(EXIT_REFUSED)


def _command_line(tool: str, config_name: str, deep_check: str, argv: list[str]) -> list[str]:
    """The checked command line Hydra runs: `argv` with the overrides the launching process adds."""
    args, _ = get_args_parser().parse_known_args(argv)
    if args.experimental_rerun:
        why = "--experimental-rerun loads a pickle, which can run code"
        raise ConfigError(f"{why}; rerun with the overrides in <run>/.hydra/overrides.yaml")
    if any(getattr(args, flag) for flag in _INFORMATIONAL):
        return argv
    flags = [a for a in argv if a not in args.overrides]
    overrides = list(args.overrides)
    resume = [o for o in overrides if o.lstrip("+").startswith("ckpt_path=")]
    if resume and config_name == "train" and not args.multirun:
        path = _unquoted(resume[0].partition("=")[2])
        overrides = quote_paths(resume_overrides(path, [o for o in overrides if o not in resume]))
    jobs = preflight(CONF_DIR, args.config_name or config_name, overrides, deep_check)
    if args.multirun:
        overrides += quote_paths(sweep_overrides(overrides, jobs))
        print_config_tree(jobs[0])  # once for the sweep: its jobs print one line each
        print(f"{tool}: a sweep of {len(jobs)} jobs", file=sys.stderr)
    return [*flags, *overrides]


def launch(tool: str, config_name: str, module: str, deep_check: str) -> None:
    """Check every job of the command line (preflight, `deep_check` its torch-side stage), then run
    `module`'s Hydra main; exit 1 if a run of it failed."""
    register_resolvers()
    if hasattr(signal, "SIGPIPE"):  # `ablation-train --help | head` ends quietly, as other tools do
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # conf/hydra/launcher/<plugin>.yaml is typed by the plugin's schema of the same name, on purpose
    warnings.filterwarnings("ignore", message=".*is validated against ConfigStore schema with the same name")
    try:
        sys.argv[1:] = _command_line(tool, config_name, deep_check, quote_paths(sys.argv[1:]))
    except ConfigError as err:
        refuse(tool, err)
    importlib.import_module(module).hydra_entry()
    if run_record.FAILED:
        sys.exit(EXIT_FAILED)
