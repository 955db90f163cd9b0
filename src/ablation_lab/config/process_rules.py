"""What a config may hand to the operating system: environment variables and shell lines.

Hydra copies `hydra.job.env_set` into `os.environ`, and every process a run starts inherits it (DDP
ranks, compile workers, a launcher's tasks). Environment variables can run code: `PYTHONPATH` with a
`sitecustomize.py`, `PYTHONSTARTUP`, `LD_PRELOAD`, `BROWSER` (read by anything that opens a page),
`NCCL_NET_PLUGIN` (a library to load), ... So `env_set` may name only the variables below, whose
values tune threads, devices and collectives and load nothing. A launcher's shell lines (submitit's
`setup`, `srun_args`, `additional_parameters`; Ray's `runtime_env`, which can install packages and
ship code) come only from this checkout's own preset in conf/hydra/launcher/ (trusted, like the
installed packages): a command line, a run folder's overrides or a `--config-dir` cannot change them.
No torch.
"""

from functools import lru_cache
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from ablation_lab.errors import ConfigError

ENV_ALLOWED = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_LAUNCH_BLOCKING",
    "CUBLAS_WORKSPACE_CONFIG",
    "PYTORCH_CUDA_ALLOC_CONF",
    "NCCL_DEBUG",
    "NCCL_P2P_DISABLE",
    "NCCL_IB_DISABLE",
    "NCCL_SOCKET_IFNAME",
    "GLOO_SOCKET_IFNAME",
    "TORCH_DISTRIBUTED_DEBUG",
    "TORCH_NCCL_ASYNC_ERROR_HANDLING",
)
# keys under hydra.launcher (at any depth) that run shell lines, set the tasks' environment or ship code
COMMAND_KEYS = ("setup", "srun_args", "additional_parameters", "runtime_env", "env_vars", "env_set")
PRESETS = Path(__file__).resolve().parents[3] / "conf" / "hydra" / "launcher"


def _check_env(cfg: DictConfig) -> None:
    env = OmegaConf.select(cfg, "hydra.job.env_set")
    if env is None:
        return
    if not isinstance(env, DictConfig):
        raise ConfigError(f"hydra.job.env_set={env} is refused: it maps variable names to values")
    for name in env.keys():
        if str(name) not in ENV_ALLOWED:
            raise ConfigError(
                f"hydra.job.env_set.{name} is refused: an environment variable can run code in every "
                f"process the run starts; allowed: {', '.join(ENV_ALLOWED)}"
            )


@lru_cache(maxsize=1)
def _presets() -> dict[str, tuple[Path, DictConfig]]:
    """This checkout's launcher presets by `_target_`, read once per process (not once per job)."""
    found = {}
    for path in sorted(PRESETS.glob("*.yaml")):
        preset = OmegaConf.load(path)
        found.setdefault(str(preset.get("_target_")), (path, preset))
    return found


def _preset(target: str) -> tuple[Path, DictConfig] | None:
    """This checkout's launcher preset whose `_target_` is `target` (None: no such preset)."""
    return _presets().get(target)


def _plain(node):
    """A node's value as written (interpolations unresolved), as Python lists, dicts and scalars."""
    if isinstance(node, DictConfig | ListConfig):
        return None if node._is_none() else OmegaConf.to_container(node, resolve=False)
    return node._value() if hasattr(node, "_value") else node


def _command_values(node: DictConfig, where: str = ""):
    """(dotted key, value as written) of every COMMAND_KEYS entry under `node`."""
    for key in node.keys():
        at = f"{where}.{key}" if where else str(key)
        child = node._get_node(key)
        if str(key) in COMMAND_KEYS:
            yield at, _plain(child)
        elif isinstance(child, DictConfig) and not child._is_none() and not child._is_interpolation():
            yield from _command_values(child, at)


def _check_launcher(cfg: DictConfig) -> None:
    launcher = OmegaConf.select(cfg, "hydra.launcher")
    if not isinstance(launcher, DictConfig):
        return
    found = _preset(str(launcher.get("_target_")))
    for key, given in _command_values(launcher):
        ours = _plain(OmegaConf.select(found[1], key)) if found else None
        if given in (None, "", [], {}) or given == ours:
            continue
        where = f"conf/hydra/launcher/{found[0].name}" if found else "conf/hydra/launcher/"
        raise ConfigError(
            f"hydra.launcher.{key}={given} is refused: shell lines, a task's environment and shipped "
            f"code come only from this checkout's {where}, never from a command line, a run folder or "
            f"--config-dir; set them there"
        )


def check_process(cfg: DictConfig) -> None:
    """Raise ConfigError (one line) when `cfg` hands the OS an environment or a command it may not."""
    _check_env(cfg)
    _check_launcher(cfg)
