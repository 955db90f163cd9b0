"""Check a command line before Hydra writes anything: every option exists and every job of a sweep
composes and builds. A bad value stops the whole sweep before its first run, with one line."""

import itertools
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from ablation_lab.build import check_config
from ablation_lab.errors import ConfigError, check_choice

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


def _axes(overrides) -> list[list[str]]:
    axes = []
    for o in overrides:
        key = o.get_key_element()
        if o.is_sweep_override():
            axes.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            axes.append([f"{key}={o.get_value_element_as_str()}"])
    return axes


def _config_sweep(config_name: str, args: list[str], cli_keys: set[str]):
    """Sweep axes an experiment puts in `hydra.sweeper.params`, unless the command line sets them."""
    cfg = compose(config_name, overrides=args, return_hydra_config=True)
    params = (cfg.hydra.get("sweeper") or {}).get("params") or {}
    strings = [f"{k}={v}" for k, v in params.items() if k.lstrip("+~") not in cli_keys]
    return OverridesParser.create().parse_overrides(strings)


def sweep_jobs(config_name: str, args: list[str]) -> list[list[str]]:
    """The override list of every job (at most MAX_CHECKED_JOBS) that `-m args` would launch.
    Needs an initialized Hydra (initialize_config_dir)."""
    overrides = OverridesParser.create().parse_overrides(args)
    first = [axis[0] for axis in _axes(overrides)]
    cli_keys = {o.key_or_group.lstrip("+~") for o in overrides}
    axes = _axes(overrides) + _axes(_config_sweep(config_name, first, cli_keys))
    return [list(job) for job in itertools.islice(itertools.product(*axes), MAX_CHECKED_JOBS)]


def preflight(conf_dir: Path, config_name: str, args: list[str]) -> None:
    """Raise ConfigError (one line) if any job of `args` names a bad option or value."""
    args = [a for a in args if not a.startswith("-") and "=" in a and not a.startswith("hydra")]
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
                jobs = sweep_jobs(config_name, args)
                for job in jobs:
                    check_config(compose(config_name, overrides=job))
            except (HydraException, OmegaConfBaseException) as err:
                lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
                raise ConfigError(" ".join(lines[:2])) from err
    finally:
        GlobalHydra.instance().clear()
