"""The exception hierarchy users see: each error says where (file, key, line) and what is expected."""

from __future__ import annotations

import difflib


class MonitorError(Exception):
    """Base of every error model-monitor reports to a user; `exit_code` is the CLI's status."""

    exit_code = 1


class InputError(MonitorError):
    """Bad input from the user (config, suite, sample file, argument): exit status 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = path or ""
        if path and line is not None:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(InputError):
    """monitor.toml is missing, malformed or inconsistent."""


class SuiteError(InputError):
    """An eval suite or its sample file is malformed."""


class BudgetExceeded(MonitorError):
    """A run's estimated cost is over the configured budget."""

    exit_code = 1


def suggest(word: str, candidates: list[str]) -> str:
    """`; did you mean 'x'?` for a near miss, else the list of valid names."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f" (expected one of: {', '.join(candidates)})"
