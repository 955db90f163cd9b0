"""One exception type for every bad input, so the CLIs can print it as one line and exit 2."""


class ConfigError(ValueError):
    """A config value that cannot work; the message names the value and what is valid."""


def check_choice(group: str, value: str, valid) -> None:
    """Raise ConfigError unless `value` is one of `valid`."""
    if value not in valid:
        raise ConfigError(f"unknown {group} '{value}'; choose one of: {', '.join(sorted(valid))}")


def check_range(name: str, value: float, low: float, high: float, *, high_open: bool = False) -> None:
    """Raise ConfigError unless low <= value <= high (or < high when `high_open`)."""
    ok = low <= value < high if high_open else low <= value <= high
    if not ok:
        bracket = ")" if high_open else "]"
        raise ConfigError(f"{name}={value} is out of range; it must lie in [{low}, {high}{bracket}")
