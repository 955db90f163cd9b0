"""A single run's config is composed once: the preflight's composition is handed to Hydra's run.

The preflight composes the command line exactly as Hydra's run will (same search path, overrides,
task name and run mode: utils/preflight.py), so composing it again in Hydra's run only costs time
before the first step (~0.25 s, the config tree being ~60 files). `hand_over` makes the next
`load_configuration` of that exact command line return the preflight's copy, taken before any
check touched it; any other call (a sweep's jobs, another command line) composes as Hydra does.
"""

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.types import RunMode
from omegaconf import DictConfig

_HYDRAS_OWN = ConfigLoaderImpl.load_configuration


def hand_over(name: str, line: list[str], composed: DictConfig) -> None:
    """The next composition of config `name` with overrides `line` for a run returns `composed`;
    whatever comes first, Hydra composes every later config itself."""

    def load_configuration(self, config_name, overrides, run_mode, **kwargs):
        ConfigLoaderImpl.load_configuration = _HYDRAS_OWN
        if (config_name, list(overrides), run_mode) == (name, line, RunMode.RUN):
            return composed
        return _HYDRAS_OWN(self, config_name, overrides, run_mode, **kwargs)

    ConfigLoaderImpl.load_configuration = load_configuration


def take_back() -> None:
    """Hydra composes every config itself again (a hand-over nobody took)."""
    ConfigLoaderImpl.load_configuration = _HYDRAS_OWN
