"""What `hydra.job_logging` and `hydra.hydra_logging` may say: what logging needs, nothing more.

Hydra hands these sections to `logging.config.dictConfig`, which calls whatever a `()` key names,
imports whatever a `class` key or an `ext://` string names, and opens whatever file a handler's
`filename` names. So only the standard classes are allowed, streams are stdout or stderr, and a
file handler writes into the run folder (`${hydra.runtime.output_dir}/<name>.log`), appending.
Levels, formats and which handlers a logger uses are free.
"""

import re

from omegaconf import DictConfig, ListConfig, OmegaConf

from ablation_lab.errors import ConfigError

SECTIONS = ("job_logging", "hydra_logging")
HANDLER_CLASSES = ("logging.StreamHandler", "logging.FileHandler", "logging.NullHandler")
FORMATTER_CLASSES = ("logging.Formatter",)
STREAMS = ("ext://sys.stdout", "ext://sys.stderr")
LEVELS = ("CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "NOTSET")
_RUN_FILE = re.compile(
    r"^\$\{hydra[.:]runtime\.output_dir\}/(\$\{hydra[.:]job\.name\}|[A-Za-z0-9_-]+)(\.[A-Za-z0-9_]+)?$"
)
_HANDLER_KEYS = {"class", "formatter", "level", "stream", "filename", "mode", "encoding", "delay", "filters"}
_FORMATTER_KEYS = {"format", "datefmt", "style", "validate", "class"}
_LOGGER_KEYS = {"level", "handlers", "propagate", "filters"}


def _refuse(where: str, value, why: str) -> ConfigError:
    return ConfigError(f"hydra.{where}={value} is refused: {why}")


def _plain(node, where: str) -> None:
    """Every value under `node` is a plain scalar: no interpolation, no `ext://` or `cfg://` name."""
    keys = list(node.keys()) if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        child = node._get_node(key)
        at = f"{where}.{key}" if isinstance(node, DictConfig) else f"{where}[{key}]"
        if isinstance(child, DictConfig | ListConfig):
            _plain(child, at)
            continue
        value = child._value()
        if isinstance(value, str) and ("${" in value or "://" in value):
            raise _refuse(at, value, "logging settings take plain values here")


def _level(where: str, value) -> None:
    if isinstance(value, int) or str(value).upper() in LEVELS:
        return
    raise _refuse(where, value, f"unknown log level; choose one of: {', '.join(LEVELS)}")


def _check_handler(where: str, handler) -> None:
    if not isinstance(handler, DictConfig):
        raise _refuse(where, handler, "a handler is a mapping")
    keys = set(handler.keys())
    for factory in ("()", "."):
        if factory in keys:
            value = OmegaConf.to_container(handler, resolve=False)[factory]
            raise _refuse(f"{where}.{factory}", value, "a handler may not name a factory or set attributes")
    raw = OmegaConf.to_container(handler, resolve=False)
    cls = raw.get("class", "logging.StreamHandler")
    if cls not in HANDLER_CLASSES:
        raise _refuse(f"{where}.class", cls, f"handlers may be {', '.join(HANDLER_CLASSES)}")
    if keys - _HANDLER_KEYS:
        raise _refuse(
            where, sorted(keys - _HANDLER_KEYS)[0], f"a handler may set only {sorted(_HANDLER_KEYS)}"
        )
    if "stream" in raw and raw["stream"] not in STREAMS:
        raise _refuse(f"{where}.stream", raw["stream"], f"a stream is one of {', '.join(STREAMS)}")
    if cls == "logging.FileHandler":
        name = str(raw.get("filename", ""))
        if not _RUN_FILE.match(name):
            raise _refuse(f"{where}.filename", name, "a log file is ${hydra.runtime.output_dir}/<name>.log")
        if raw.get("mode", "a") != "a":
            raise _refuse(f"{where}.mode", raw["mode"], "a log file is appended to (mode a), never truncated")
    elif "filename" in raw:
        raise _refuse(f"{where}.filename", raw["filename"], "only a FileHandler opens a file")
    if "level" in raw:
        _level(f"{where}.level", raw["level"])
    _plain(OmegaConf.create({k: v for k, v in raw.items() if k not in ("filename", "stream")}), where)


def check_logging_section(section: DictConfig, where: str) -> None:
    """Raise ConfigError for anything in one logging section beyond levels, formats and handlers of
    the standard classes writing to the console or into the run folder."""
    for key in section.keys():
        node = section._get_node(key)
        at = f"{where}.{key}"
        if key == "()" or (node is not None and node._is_interpolation()):
            raise _refuse(at, node._value() if node is not None else None, "no factory or interpolation here")
        if key == "filters" and isinstance(node, DictConfig) and len(node):
            raise _refuse(at, list(node.keys())[0], "filters name code; none may be configured")
        if key == "handlers":
            for name in node.keys():
                _check_handler(f"{at}.{name}", node._get_node(name))
        elif key == "formatters":
            for name in node.keys():
                formatter = node._get_node(name)
                raw = OmegaConf.to_container(formatter, resolve=False)
                if "()" in raw:
                    raise _refuse(f"{at}.{name}.()", raw["()"], "a formatter may not name a factory")
                extra = set(raw) - _FORMATTER_KEYS
                if extra:
                    raise _refuse(
                        f"{at}.{name}", sorted(extra)[0], f"a formatter sets only {sorted(_FORMATTER_KEYS)}"
                    )
                if raw.get("class", "logging.Formatter") not in FORMATTER_CLASSES:
                    raise _refuse(f"{at}.{name}.class", raw["class"], "formatters are logging.Formatter")
                _plain(formatter, f"{at}.{name}")
        elif key in ("root", "loggers"):
            loggers = {"": node} if key == "root" else {n: node._get_node(n) for n in node.keys()}
            for name, logger in loggers.items():
                here = f"{at}.{name}".rstrip(".")
                if not isinstance(logger, DictConfig):
                    if logger is not None and logger._value() is not None:
                        raise _refuse(here, logger._value(), "a logger is a mapping of plain values")
                    continue
                raw = OmegaConf.to_container(logger, resolve=False)
                extra = set(raw) - _LOGGER_KEYS
                if extra:
                    raise _refuse(here, sorted(extra)[0], f"a logger sets only {sorted(_LOGGER_KEYS)}")
                if "level" in raw:
                    _level(f"{here}.level", raw["level"])
                _plain(logger, here)
        elif isinstance(node, DictConfig | ListConfig):
            _plain(node, at)
        else:
            _plain(OmegaConf.create({key: node._value()}), where)


def check_logging(cfg: DictConfig) -> None:
    """Check both of Hydra's logging sections of a composed config (Hydra's section included)."""
    hydra = cfg.get("hydra") if isinstance(cfg, DictConfig) else None
    if hydra is None:
        return
    for name in SECTIONS:
        node = hydra._get_node(name) if name in hydra else None
        if node is None or node._is_none():
            continue
        if node._is_interpolation() or not isinstance(node, DictConfig):
            raise _refuse(name, node._value(), "a logging section is a mapping of plain values")
        check_logging_section(node, name)
