"""Database failures a user can fix, told as one line naming the database and the fix (never a traceback)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from monitor.core.config_values import database_url_problem
from monitor.core.errors import ConfigError, MonitorError


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database.removeprefix("file:"))  # a `file:` URI (uri=true) names the same file


def explain(exc: BaseException, url: str) -> MonitorError | None:
    """The clear error for a database failure `exc` on `url`, or None when it is not one we know."""
    backend = _backend(url)
    unusable = isinstance(exc, ArgumentError | NoSuchModuleError | ModuleNotFoundError)
    problem = database_url_problem(url) if unusable else None
    if problem is not None:
        return ConfigError(problem)
    if isinstance(exc, ModuleNotFoundError) and backend == "postgresql":
        return ConfigError(
            "[database] url is PostgreSQL but its driver is not installed: "
            "pip install 'model-monitor[postgres]'"
        )
    path = sqlite_path(url)
    if isinstance(exc, OSError) and path is not None and _under(exc.filename, path):
        return ConfigError(
            f"database {path} cannot be created: {exc.strerror} ({exc.filename}); "
            f"check that {path.parent} exists and is writable"
        )
    if isinstance(exc, OperationalError):
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if path is not None and "readonly" in message:
            return ConfigError(f"database {path} is read-only: make it (and its directory) writable")
        if path is not None and "unable to open" in message:
            return ConfigError(
                f"database {path} cannot be opened: check that {path.parent} exists and is writable"
            )
        return MonitorError(f"database {_shown(url)} failed: {message.splitlines()[0] if message else exc}")
    return None


def _under(filename: object, path: Path) -> bool:
    """Whether an OSError's file is the database or one of its directories (making them failed)."""
    return isinstance(filename, str) and Path(filename) in (path, *path.parents)


def _shown(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _backend(url: str) -> str:
    """`postgresql` for `postgresql+psycopg://…`: the database, without the driver."""
    return url.split(":", 1)[0].split("+", 1)[0]
