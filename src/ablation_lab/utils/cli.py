"""The shared start of every CLI: Hydra's own flags pass through, a bad command line is refused in
one line (exit 2) before torch is imported, and only then is the tool's module loaded and run.

For a sweep, the launching process also fixes the sweep folder and each job's share of the cores
(sweep/launching.py); `ckpt_path=<run>/checkpoints/last.ckpt` resumes that run in its folder."""

import importlib
import os
import signal
import sys
import time
import warnings
from pathlib import Path

from ablation_lab.config.callback_rules import check_callbacks
from ablation_lab.errors import EXIT_FAILED, EXIT_REFUSED, ConfigError
from ablation_lab.sweep.launching import resume_overrides, sweep_overrides
from ablation_lab.sweep.threads import open_window
from ablation_lab.utils import run_record
from ablation_lab.utils.argv import split
from ablation_lab.utils.atomic import atomic_hydra_files
from ablation_lab.utils.compose_once import hand_over
from ablation_lab.utils.preflight import check_only_safety, preflight
from ablation_lab.utils.progress_env import SWEEP_JOBS, SWEEP_START
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


def _command_line(
    tool: str, config_name: str, deep_check: str, argv: list[str], task_name: str = "train"
) -> tuple[list[str], bool]:
    """The checked command line Hydra runs: every override of `argv` (wherever it stands) checked,
    in the order typed, after the flags, plus the overrides the launching process adds; and
    whether it only prints (--help, --cfg, --info, completion). `task_name`: Hydra's job name."""
    line = split(argv)
    if line.get("experimental_rerun"):
        why = "--experimental-rerun loads a pickle, which can run code"
        raise ConfigError(f"{why}; rerun with the overrides in <run>/.hydra/overrides.yaml")
    config_dir, name = line.get("config_dir"), line.get("config_name") or config_name
    conf_dir = _main_config_dir(line.get("config_path"))
    overrides = quote_paths(line.overrides)
    if any(line.get(flag) for flag in _INFORMATIONAL):
        if (overrides or config_dir) and not line.get("shell_completion"):  # completion: its own words
            check_only_safety(conf_dir, name, overrides, config_dir)  # Hydra sets up logging from them
        return [*line.flags, *overrides], True
    resume = [o for o in overrides if o.lstrip("+").startswith("ckpt_path=")]
    if resume and config_name == "train":
        if line.get("multirun"):
            raise ConfigError(
                "ckpt_path resumes one run and cannot be swept (every cell would start from it); a sweep "
                "resumes with -m <its arguments> hydra.sweep.dir=<sweep folder>"
            )
        path = _unquoted(resume[-1].partition("=")[2])
        overrides = quote_paths(resume_overrides(path, [o for o in overrides if o not in resume]))
    jobs = preflight(conf_dir, name, overrides, deep_check, config_dir, task_name)
    if task_name == "train" and not line.get("multirun"):  # a run on its own: auto's best checkpoint too
        check_callbacks(jobs[0], sweep=False)
    if jobs.as_composed is not None and not line.get("multirun"):
        hand_over(name, overrides, jobs.as_composed)  # Hydra's run does not compose it again
    if line.get("multirun"):
        overrides += quote_paths(sweep_overrides(overrides, jobs[0], jobs.overrides))
        print_config_tree(jobs[0])  # once for the sweep: its jobs print one line each
        print(f"{tool}: a sweep of {len(jobs.overrides)} jobs", file=sys.stderr)
        os.environ[SWEEP_JOBS], os.environ[SWEEP_START] = str(len(jobs.overrides)), str(time.time())
    return [*line.flags, *overrides], False


def _main_config_dir(config_path: str | None) -> Path:
    """conf/, or the folder `--config-path` names (relative to the tool's module, as Hydra reads it)."""
    if config_path is None:
        return CONF_DIR
    folder = Path(__file__).resolve().parents[1] / config_path
    if not folder.is_dir():
        raise ConfigError(f"--config-path='{config_path}' is not a folder ({folder})")
    return folder


def launch(tool: str, config_name: str, module: str, deep_check: str) -> None:
    """Check every job of the command line (preflight, `deep_check` its torch-side stage), then run
    `module`'s Hydra main; exit 1 if a run of it failed."""
    open_window()  # threads=auto counts the cores others keep busy over our start-up, no extra wait
    register_resolvers()
    if hasattr(signal, "SIGPIPE"):  # `ablation-train --help | head` ends quietly, as other tools do
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # conf/hydra/launcher/<plugin>.yaml is typed by the plugin's schema of the same name, on purpose
    schema_note = r"\s*'[^']+' is validated against ConfigStore schema with the same name"
    warnings.filterwarnings("ignore", message=schema_note)
    try:
        task_name = module.rpartition(".")[2]  # Hydra names a task after its module
        sys.argv[1:], prints_only = _command_line(tool, config_name, deep_check, sys.argv[1:], task_name)
    except ConfigError as err:
        refuse(tool, err)
    if prints_only:  # Hydra prints help, a config or completions: no need to import torch
        from ablation_lab.utils.print_only import print_only

        print_only(config_name, sys.argv[1:])
        return
    atomic_hydra_files()  # a full disk leaves no 0-byte .hydra/config.yaml
    importlib.import_module(module).hydra_entry()
    if run_record.FAILED:
        sys.exit(EXIT_FAILED)
