"""A single run's config is composed once: the preflight's composition is handed to Hydra's run.

For one run Hydra composes the config twice (hydra/_internal/utils.py `_run_hydra`): `get_mode`
composes the command line only to read `hydra.mode`, then `run` composes it again with
`hydra.mode=RUN` appended. The preflight has already composed the same command line exactly as Hydra
does (same search path, overrides and task name: utils/preflight.py), so each composition only
delays the first step (~0.08–0.25 s each; the config tree is ~60 files). `hand_over` answers both
with the preflight's copy, taken before any check touched it, `hydra.mode=RUN` applied as Hydra
applies a Hydra override. Any other call (a sweep's jobs, another command line) composes as
Hydra does, and the first call that is not one of the two ends the hand-over.
"""

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict, read_write

_HYDRAS_OWN = ConfigLoaderImpl.load_configuration
RUN_MODE = "hydra.mode=RUN"  # what Hydra's _run_app appends to a run's overrides


def hand_over(name: str, line: list[str], composed: DictConfig) -> None:
    """Hydra's next compositions of config `name` with overrides `line` for one run (its get_mode,
    then its run) return `composed`. Nothing is handed over when the config sets hydra.mode itself."""
    if composed.hydra.mode is not None:
        return

    def load_configuration(self, config_name, overrides, run_mode, **kwargs):
        call = (config_name, list(overrides), run_mode)
        if call == (name, line, RunMode.MULTIRUN):  # get_mode: reads hydra.mode (None) only
            return composed
        ConfigLoaderImpl.load_configuration = _HYDRAS_OWN
        if call == (name, [*line, RUN_MODE], RunMode.RUN):
            with read_write(composed.hydra), open_dict(composed.hydra):
                composed.hydra.mode = RunMode.RUN
                composed.hydra.overrides.hydra.append(RUN_MODE)
            return composed
        return _HYDRAS_OWN(self, config_name, overrides, run_mode, **kwargs)

    ConfigLoaderImpl.load_configuration = load_configuration


def take_back() -> None:
    """Hydra composes every config itself again (a hand-over nobody took)."""
    ConfigLoaderImpl.load_configuration = _HYDRAS_OWN
