"""Knob kinds: a type and a range, and the one-line message that refuses anything else."""

import math
from dataclasses import dataclass

from ablation_lab.errors import ConfigError

ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _show(value) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Knob:
    """The type (`kind`) and range of one config value. `check` returns the value as that type."""

    kind: (
        str  # int | float | bool | str | strs | choice | names | ints | floats | checkpoint | count | threads
    )
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    nullable: bool = False
    length: int | None = None  # lists: exact length

    def describe(self) -> str:
        if self.kind == "choice":
            return f"one of: {', '.join(self.choices)}"
        noun = {
            "int": "an integer",
            "float": "a number",
            "bool": "true or false",
            "str": "a string",
            "strs": "a list of names",
            "ints": "a list of integers",
            "floats": "a list of numbers",
            "names": f"a name or a list of names ({', '.join(self.choices)})",
            "checkpoint": "the path of a checkpoint file",
            "count": "an integer count or a fraction in [0, 1]",
            "threads": "auto or a number of threads",
        }[self.kind]
        if self.kind in ("ints", "floats") and self.length:
            noun = f"a list of {self.length} {'integers' if self.kind == 'ints' else 'numbers'}"
        return f"{noun}{self._range()}" + (" or null" if self.nullable else "")

    def _range(self) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f" in {left}{_number_text(low)}, {_number_text(high)}{right}"
        if low is not None:
            return f" {'>' if self.low_open else '≥'} {_number_text(low)}"
        if high is not None:
            return f" {'<' if self.high_open else '≤'} {_number_text(high)}"
        return ""

    def _in_range(self, x: float) -> bool:
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return not (self.high is not None and (x >= self.high if self.high_open else x > self.high))

    def _out_of_range(self, key: str, value) -> ConfigError:
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            where = f"lie in {left}{float(self.low)}, {float(self.high)}{right}"
        else:
            where = f"be{self._range()}"
        return ConfigError(f"{key}={_show(value)} is out of range; it must {where}")

    def _scalar(self, key: str, value, kind: str):
        if kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{key}={_show(value)} must be true or false")
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise ConfigError(f"{key}={_show(value)} must be a string")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}={_show(value)} must be {self.describe()}")
        if kind == "int" and not isinstance(value, int):
            raise ConfigError(f"{key}={_show(value)} must be {self.describe()}")
        if not math.isfinite(value) or not self._in_range(value):
            raise self._out_of_range(key, value)
        return int(value) if kind == "int" else float(value)

    def check(self, key: str, value):
        """`value` as this knob's type, or a ConfigError that names the key, the value and what is valid."""
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"{key} is missing; it must be {self.describe()}")
        if self.kind in ("int", "float", "bool", "str"):
            return self._scalar(key, value, self.kind)
        if self.kind == "choice":
            if value not in self.choices:
                raise ConfigError(f"unknown {key} '{value}'; choose one of: {', '.join(self.choices)}")
            return value
        if self.kind == "strs":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str | int) for v in value):
                raise ConfigError(f"{key}={_show(value)} must be {self.describe()}")
            return list(value)
        if self.kind == "names":
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
                raise ConfigError(f"{key}={_show(value)} must be {self.describe()}")
            for name in names:
                if name not in self.choices:
                    raise ConfigError(f"unknown {key} '{name}'; choose one of: {', '.join(self.choices)}")
            return value
        if self.kind in ("ints", "floats"):
            if (
                not isinstance(value, list | tuple)
                or not value
                or (self.length and len(value) != self.length)
            ):
                raise ConfigError(f"{key}={_show(value)} must be {self.describe()}")
            kind = "int" if self.kind == "ints" else "float"
            return [self._scalar(f"{key}[{i}]", v, kind) for i, v in enumerate(value)]
        if self.kind == "threads":
            return value if value == "auto" else self._scalar(key, value, "int")
        if self.kind == "count":  # Lightning's limit_*_batches: a number of batches or a fraction
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ConfigError(f"{key}={value} is out of range; a fraction must lie in [0.0, 1.0]")
            return self._scalar(key, value, "int" if isinstance(value, int) else "float")
        return self._checkpoint(key, value)

    def _checkpoint(self, key: str, value) -> str:
        from pathlib import Path

        path = Path(str(value))
        if not path.is_file():
            raise ConfigError(f"{key}='{value}' is not a file; pass a .ckpt from a run's checkpoints/ folder")
        with open(path, "rb") as f:
            if f.read(4) != ZIP_MAGIC:
                raise ConfigError(f"{key}='{value}' is not a checkpoint (not a torch.save archive)")
        return str(value)


def Int(low: float | None = None, high: float | None = None, nullable: bool = False) -> Knob:  # noqa: N802
    return Knob("int", low, high, nullable=nullable)


def Float(  # noqa: N802
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    nullable: bool = False,
) -> Knob:
    return Knob("float", low, high, low_open, high_open, nullable=nullable)


def Positive(nullable: bool = False) -> Knob:  # noqa: N802
    return Float(0.0, low_open=True, nullable=nullable)


def Probability() -> Knob:  # noqa: N802
    """A drop or smoothing probability: [0, 1)."""
    return Float(0.0, 1.0, high_open=True)


def Bool(nullable: bool = False) -> Knob:  # noqa: N802
    return Knob("bool", nullable=nullable)


def Str(nullable: bool = False) -> Knob:  # noqa: N802
    return Knob("str", nullable=nullable)


def Choice(*choices: str, nullable: bool = False) -> Knob:  # noqa: N802
    return Knob("choice", choices=tuple(choices), nullable=nullable)


def Strs() -> Knob:  # noqa: N802
    return Knob("strs")


def Names(*choices: str) -> Knob:  # noqa: N802
    return Knob("names", choices=tuple(choices))


def Ints(low: float | None = None, length: int | None = None) -> Knob:  # noqa: N802
    return Knob("ints", low, length=length)


def Floats(  # noqa: N802
    low: float | None = None, high: float | None = None, *, low_open=False, high_open=False, length=None
) -> Knob:
    return Knob("floats", low, high, low_open, high_open, length=length)


def Checkpoint(nullable: bool = False) -> Knob:  # noqa: N802
    return Knob("checkpoint", nullable=nullable)


def Count() -> Knob:  # noqa: N802
    return Knob("count", 0)
