"""Check a command line before Hydra writes anything, in two stages: every distinct job of the
sweep is composed exactly as Hydra will compose it (the same search path: conf/, `--config-dir`,
`hydra.searchpath`) and checked against the schema (types, ranges, relations, allowed `_target_`s,
plain logging sections: no torch, well under a second), then every distinct job's model and data
settings are built and its `_target_`s resolved (torch). A bad value stops the whole sweep before
its first run, with one line.

Sweeps scale: jobs that differ only in a seed share one check (each seed value is checked as a
value), so `seed=range(0,1000)` costs one composition per cell, not per job.
"""

import copy
import importlib
import itertools
import os
from contextlib import contextmanager
from pathlib import Path

from hydra import version
from hydra._internal.hydra import Hydra
from hydra._internal.utils import create_config_search_path
from hydra.core.config_search_path import SearchPathQuery
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.object_type import ObjectType
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from ablation_lab.config.callback_rules import check_callbacks
from ablation_lab.config.deletions import check_deletion
from ablation_lab.config.schema import knob
from ablation_lab.config.targets import check_resolved_targets
from ablation_lab.config.validate import check_safety, unknown_key, validate
from ablation_lab.errors import ConfigError, check_choice
from ablation_lab.sweep.launching import check_plugins
from ablation_lab.utils.folders import check_folder, check_output_folder, check_run_folder

# Keys whose value changes no other check: every value is checked alone, jobs share one composition.
NEUTRAL_KEYS = ("seed",)


class Jobs(list):
    """The distinct composed configs of a command line, with the override list of every job; for
    one job composed from the command line as typed, its config as composed, before any check."""

    overrides: list[list[str]]
    as_composed: DictConfig | None = None


@contextmanager
def hydra_context(conf_dir: Path, config_dir: str | None = None, task_name: str = "train"):
    """Hydra set up as its command line sets it up: conf/ as the main folder, `--config-dir` first."""
    GlobalHydra.instance().clear()
    version.setbase("1.3")
    search_path = create_config_search_path(str(conf_dir))
    if config_dir is not None:
        folder = os.path.abspath(config_dir)
        if not os.path.isdir(folder):
            raise ConfigError(f"--config-dir='{config_dir}' is not a folder")
        search_path.prepend(
            provider="command-line", path=f"file://{folder}", anchor=SearchPathQuery(provider="schema")
        )
    try:
        yield Hydra.create_main_hydra2(task_name=task_name, config_search_path=search_path)
    finally:
        GlobalHydra.instance().clear()
        _COMPOSED.clear()
        _REPOSITORY.clear()


@contextmanager
def _as_hydra_config(cfg: DictConfig):
    """`cfg`'s Hydra section as the current HydraConfig, so `${hydra:...}` resolves while checking."""
    HydraConfig.instance().set_config(cfg)
    try:
        yield
    finally:
        HydraConfig.instance().cfg = None


def _hydra() -> Hydra:
    return GlobalHydra.instance().hydra


# The config repository of this preflight's Hydra context, built once: Hydra's get_group_options
# builds a new one per call (~20 ms; one call per override).
_REPOSITORY: dict[str, object] = {}


def _group_options(group: str) -> list[str]:
    """The options of config group `group` ([] when it is not a group), as get_group_options."""
    if "repo" not in _REPOSITORY:
        _, _REPOSITORY["repo"] = _hydra().config_loader._parse_overrides_and_create_caching_repo(None, [])
    return _REPOSITORY["repo"].get_group_options(group, ObjectType.CONFIG)


def _check_group_values(override) -> None:
    group = override.key_or_group
    if not group.lstrip("+~"):
        raise ConfigError(
            f"cannot read the override '{override.input_line}': it names no key (write key=value)"
        )
    if override.is_delete():
        return
    valid = _group_options(group)
    if not valid:
        return
    values = list(override.sweep_iterator()) if override.is_sweep_override() else [override.value()]
    for value in values:
        for name in value if isinstance(value, list) else [value]:
            if name is not None:
                check_choice(group, str(name), valid)


def _axis(override) -> list[str]:
    """The `key=value` strings a sweep override stands for; an interval's two ends."""
    key = override.get_key_element()
    if not override.is_sweep_override():
        return [f"{key}={override.get_value_element_as_str()}"]
    if override.is_interval_sweep():
        interval = override.value()
        return [f"{key}={interval.start}", f"{key}={interval.end}"]
    return [f"{key}={v}" for v in override.sweep_string_iterator()]


def _config_sweep(config_name: str, args: list[str], cli_keys: set[str]):
    """Sweep axes an experiment puts in `hydra.sweeper.params`, unless the command line sets them."""
    cfg = _compose(config_name, args)
    params = (cfg.hydra.get("sweeper") or {}).get("params") or {}
    strings = [f"{k}={v}" for k, v in params.items() if k.lstrip("+~") not in cli_keys]
    return OverridesParser.create().parse_overrides(strings)


def _parse(args: list[str]):
    try:
        return OverridesParser.create().parse_overrides(args)
    except HydraException as err:
        raise ConfigError(_grammar_error(args, err)) from err


def _grammar_error(args: list[str], err: Exception) -> str:
    """Hydra's grammar error in words: which argument, and what a well-formed override looks like."""
    for arg in args:
        try:
            OverridesParser.create().parse_overrides([arg])
        except HydraException:
            return (
                f"cannot read the override {arg!r}: write key=value, key=a,b for a sweep, quote values "
                "holding spaces, commas or brackets (e.g. 'key=[a,b]')"
            )
    return str(err).splitlines()[0]


def sweep_jobs(config_name: str, args: list[str]) -> list[list[str]]:
    """The override list of every job that `-m args` would launch; for sampled spaces (Optuna's
    interval), each end. Needs Hydra set up (hydra_context or initialize_config_dir)."""
    overrides = _parse(args)
    axes = [_axis(o) for o in overrides]
    cli_keys = {o.key_or_group.lstrip("+~") for o in overrides}
    axes += [_axis(o) for o in _config_sweep(config_name, [a[0] for a in axes], cli_keys)]
    return [list(job) for job in itertools.product(*axes)]


# Configs composed in the current hydra_context, by (config name, job): a single run's job is also
# the list `_config_sweep` composes to read an experiment's sweep axes, ~0.2 s a composition.
_COMPOSED: dict[tuple[str, tuple[str, ...]], DictConfig] = {}


def _compose(config_name: str, job: list[str]) -> DictConfig:
    key = (config_name, tuple(job))
    if key not in _COMPOSED:
        _COMPOSED[key] = _compose_once(config_name, job)
    return _COMPOSED[key]


def _compose_once(config_name: str, job: list[str]) -> DictConfig:
    try:
        return _hydra().compose_config(config_name, job, run_mode=RunMode.RUN, with_log_configuration=False)
    except (HydraException, OmegaConfBaseException) as err:
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        if "Could not find 'hydra/sweeper/optuna'" in str(err):  # the presets' plugins: check_plugins
            raise ConfigError(
                "hydra/sweeper/optuna needs a Hydra plugin that is not installed; pip install -e '.[optuna]' "
                "(or make install EXTRAS=optuna)"
            ) from err
        if lines and lines[0].startswith("Could not override '"):
            key = lines[0].split("'")[1]
            base = _compose(config_name, [a for a in job if a.split("=")[0].lstrip("+~") != key])
            raise ConfigError(unknown_key(base, key)) from err
        if "LexerNoViableAlt" in str(err) or "mismatched input" in str(err) or "no viable" in str(err):
            raise ConfigError(_grammar_error(job, err)) from err
        raise ConfigError(" ".join(lines[:2])) from err


def _check_folders(cfg: DictConfig, overrides) -> None:
    """paths.log_dir, and a run or sweep folder given by hand (utils/folders.py)."""
    if "paths" in cfg:
        check_folder("paths.log_dir", str(cfg.paths.log_dir))
    for o in overrides:
        key = o.key_or_group.lstrip("+~")
        if key in ("hydra.run.dir", "hydra.sweep.dir") and not o.is_delete():
            values = list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]
            for value in values:
                check_output_folder(key, str(value), "run" if key == "hydra.run.dir" else "sweep")


def _distinct(jobs: list[list[str]]) -> tuple[list[list[str]], dict[str, set[str]]]:
    """One representative per job up to its neutral keys, and every value each neutral key takes."""
    seen: dict[tuple, list[str]] = {}
    neutral: dict[str, set[str]] = {}
    for job in jobs:
        rest = []
        for override in job:
            key, _, value = override.partition("=")
            if key.lstrip("+~") in NEUTRAL_KEYS and not key.startswith("~"):
                neutral.setdefault(key.lstrip("+~"), set()).add(value)
            else:
                rest.append(override)
        seen.setdefault(tuple(rest), job)
    return list(seen.values()), neutral


def _check_neutral(values: dict[str, set[str]]) -> None:
    parser = OverridesParser.create()
    for key, strings in values.items():
        for string in sorted(strings):
            knob(key, parser.parse_override(f"{key}={string}").value())


def check_only_safety(
    conf_dir: Path, config_name: str, args: list[str], config_dir: str | None = None
) -> None:
    """For commands that print instead of running (--help, --cfg, --info, completion): the command
    line composes, and nothing in it names code or a file (Hydra sets up logging from it)."""
    _parse(args)
    with hydra_context(conf_dir, config_dir):
        cfg = _compose(config_name, [a for a in args if not _is_sweep(a)])
        with _as_hydra_config(cfg):
            check_safety(cfg)


def _is_sweep(arg: str) -> bool:
    try:
        return OverridesParser.create().parse_override(arg).is_sweep_override()
    except HydraException:
        return False


def preflight(
    conf_dir: Path,
    config_name: str,
    args: list[str],
    deep_check: str = "ablation_lab.build:check_config",
    config_dir: str | None = None,
    task_name: str = "train",
) -> Jobs:
    """Raise ConfigError (one line) if any job of `args` (overrides) names a bad option or value;
    else the distinct composed jobs (Hydra's section included), with every job's overrides.
    `deep_check` ("module:function") is the tool's torch-side check of one composed job;
    `task_name` Hydra's name of the tool's task (`hydra.job.name`), its module's last part."""
    overrides = _parse(args)
    for o in overrides:
        check_deletion(o)
    with hydra_context(conf_dir, config_dir, task_name):
        for o in overrides:
            _check_group_values(o)
        every = sweep_jobs(config_name, args)
        distinct, neutral = _distinct(every)
        jobs = Jobs(_compose(config_name, job) for job in distinct)
        jobs.overrides = every
        if every == [list(args)]:  # utils/compose_once.py: Hydra's run takes this one over
            jobs.as_composed = copy.deepcopy(jobs[0])
        _check_neutral(neutral)
        for cfg in jobs:
            validate(cfg)
            with _as_hydra_config(cfg):  # again, with ${hydra:...} resolving as in the run
                check_safety(cfg)
                check_run_folder(cfg)
        check_plugins(jobs[0])
        _check_folders(jobs[0], overrides)
        module, _, function = deep_check.partition(":")
        check = getattr(importlib.import_module(module), function)  # torch: once the schema holds
        for cfg in jobs:
            with _as_hydra_config(cfg):
                check_resolved_targets(cfg)
                check_callbacks(cfg)  # built from the values validate checked above
            check(cfg)
    return jobs
