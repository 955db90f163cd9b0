"""One exception type for every bad input, and the exit statuses of the CLIs.

Exit statuses (README, "Exit statuses"):
  0  every run finished (a sweep: every cell done)
  1  a run failed or diverged (a sweep: at least one cell did; the others still ran)
  2  the command line was refused before anything ran (bad value, unknown key, unsafe file)
  130  interrupted by Ctrl-C (SIGINT); the run is recorded `interrupted` and resumes
  143  terminated (SIGTERM: SLURM preemption, `timeout`); recorded `interrupted`, resumes
"""

EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class ConfigError(ValueError):
    """A config value that cannot work; the message names the value and what is valid."""


def check_choice(group: str, value: str, valid) -> None:
    """Raise ConfigError unless `value` is one of `valid`."""
    if value not in valid:
        raise ConfigError(f"unknown {group} '{value}'; choose one of: {', '.join(sorted(valid))}")
