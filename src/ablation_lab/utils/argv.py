"""Split a command line into Hydra's flags and its overrides, wherever each stands.

argparse's `parse_known_args` stops collecting overrides at the first flag, so in
`seed=0 -m model.width=64` the overrides after `-m` would escape the check and Hydra would read
them in another order. Here every token is either a known flag (with its value), or an override,
kept in the order typed; anything else is refused. Hydra then gets `flags + overrides`.
"""

from dataclasses import dataclass, field

from hydra._internal.utils import get_args_parser

from ablation_lab.errors import ConfigError

# what a command does; Hydra takes one (it raises a bare ValueError for two)
MODES = {"run": "--run", "multirun": "-m", "cfg": "--cfg", "info": "--info", "shell_completion": "-sc"}


@dataclass
class CommandLine:
    flags: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)  # flag dest → value (True for switches)

    def get(self, dest: str):
        return self.values.get(dest)

    @property
    def argv(self) -> list[str]:
        return [*self.flags, *self.overrides]


def split(argv: list[str]) -> CommandLine:
    """Flags (each with its value) and overrides, in order; ConfigError for an unknown flag."""
    actions = {s: a for a in get_args_parser()._actions for s in a.option_strings}
    line, i = CommandLine(), 0
    while i < len(argv):
        token = argv[i]
        name, eq, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        action = actions.get(name) if token.startswith("-") else None
        if token.startswith("-") and action is None:
            if token == "--":
                i += 1
                continue
            known = sorted(s for s in actions if s.startswith("--"))
            raise ConfigError(f"unknown flag '{token}'; the flags are: {', '.join(known)}")
        if action is None:
            line.overrides.append(token)
            i += 1
            continue
        line.flags.append(token)
        i += 1
        if action.nargs == 0:
            line.values[action.dest] = True
            continue
        if eq:
            value = inline
        elif action.nargs == "?":
            has_value = i < len(argv) and argv[i] in (action.choices or ())
            value = argv[i] if has_value else (action.const if action.const is not None else "all")
            if has_value:
                line.flags.append(argv[i])
                i += 1
        elif i < len(argv):
            value = argv[i]
            line.flags.append(value)
            i += 1
        else:
            raise ConfigError(f"the flag '{token}' needs a value")
        if action.choices and value not in action.choices:
            raise ConfigError(f"{token} {value}: choose one of: {', '.join(action.choices)}")
        line.values[action.dest] = value
    modes = [d for d in MODES if line.values.get(d)]
    if len(modes) > 1:
        given = " and ".join(MODES[d] for d in modes)
        raise ConfigError(f"{given} cannot go together; give one of: {', '.join(MODES.values())}")
    return line
