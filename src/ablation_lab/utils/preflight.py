"""Check a command line before Hydra writes anything, in two stages: every job of the sweep is
composed and checked against the schema (types, ranges, relations, allowed `_target_`s: no torch,
well under a second), then every job's model and data settings are built (torch). A bad value
stops the whole sweep before its first run, with one line."""

import importlib
import itertools
import os
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from ablation_lab.config.validate import unknown_key, validate
from ablation_lab.errors import ConfigError, check_choice
from ablation_lab.sweep.launching import check_plugins

MAX_CHECKED_JOBS = 500


def _options(conf_dir: Path, group: str) -> set[str]:
    return {p.stem for p in (conf_dir / group).glob("*.yaml")}


def _check_group_values(conf_dir: Path, override) -> None:
    group = override.key_or_group
    if override.is_delete() or not (conf_dir / group).is_dir():
        return
    values = list(override.sweep_iterator()) if override.is_sweep_override() else [override.value()]
    valid = _options(conf_dir, group)
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


def sweep_jobs(config_name: str, args: list[str]) -> list[list[str]]:
    """The override list of every job (at most MAX_CHECKED_JOBS) that `-m args` would launch; for
    sampled spaces (Optuna's interval), each end. Needs an initialized Hydra (initialize_config_dir)."""
    overrides = OverridesParser.create().parse_overrides(args)
    axes = [_axis(o) for o in overrides]
    cli_keys = {o.key_or_group.lstrip("+~") for o in overrides}
    axes += [_axis(o) for o in _config_sweep(config_name, [a[0] for a in axes], cli_keys)]
    return [list(job) for job in itertools.islice(itertools.product(*axes), MAX_CHECKED_JOBS)]


def _compose(config_name: str, job: list[str]) -> DictConfig:
    try:
        return compose(config_name, overrides=job, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as err:
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        if "Could not find 'hydra/sweeper/optuna'" in str(err):  # the presets' plugins: check_plugins
            raise ConfigError(
                "hydra/sweeper/optuna needs a Hydra plugin that is not installed; pip install -e '.[optuna]' "
                "(or make install EXTRAS=optuna)"
            ) from err
        if lines and lines[0].startswith("Could not override '"):
            key = lines[0].split("'")[1]
            base = compose(config_name, overrides=[a for a in job if a.split("=")[0].lstrip("+~") != key])
            raise ConfigError(unknown_key(base, key)) from err
        raise ConfigError(" ".join(lines[:2])) from err


def _check_writable(cfg: DictConfig) -> None:
    """The log folder (or the nearest folder above it that exists) must be writable."""
    folder = Path(str(cfg.paths.log_dir)).absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"paths.log_dir='{cfg.paths.log_dir}' cannot be written ({existing} is read-only); "
            f"pass paths.log_dir=<a writable folder>"
        )


def preflight(
    conf_dir: Path, config_name: str, args: list[str], deep_check: str = "ablation_lab.build:check_config"
) -> list[DictConfig]:
    """Raise ConfigError (one line) if any job of `args` (overrides) names a bad option or value;
    else the composed jobs (Hydra's section included). `deep_check` ("module:function") is the
    tool's torch-side check of one composed job."""
    try:
        overrides = OverridesParser.create().parse_overrides(args)
    except HydraException as err:
        raise ConfigError(str(err).splitlines()[0]) from err
    for o in overrides:
        _check_group_values(conf_dir, o)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(str(conf_dir), version_base="1.3"):
            try:
                jobs = [_compose(config_name, job) for job in sweep_jobs(config_name, args)]
            except (HydraException, OmegaConfBaseException) as err:
                lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
                raise ConfigError(" ".join(lines[:2])) from err
            for cfg in jobs:
                validate(cfg)
            check_plugins(jobs[0])
            if "paths" in jobs[0]:
                _check_writable(jobs[0])
            module, _, function = deep_check.partition(":")
            check = getattr(importlib.import_module(module), function)  # torch: once the schema holds
            for cfg in jobs:
                check(cfg)
    finally:
        GlobalHydra.instance().clear()
    return jobs
