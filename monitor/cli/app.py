"""The root click group, shared CLI context, and the error boundary (MonitorError -> message + status)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from monitor import __version__
from monitor.core.errors import ConfigError, MonitorError

if TYPE_CHECKING:
    from monitor.core.config import Config
    from monitor.store.db import Database

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


@dataclass
class AppContext:
    """What every command may need: the config (loaded on first use) and the database."""

    config_path: str | None = None
    debug: bool = False
    json: bool = False  # the command was given --json: a failure is a JSON error object on stdout too
    _config: Config | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from monitor.core.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def database(self, *, migrate: bool = True) -> Database:
        """Open the configured database; commands that write get the schema upgraded first."""
        if self._db is None:
            from monitor.store.db import open_database

            self._db = open_database(self.config.database_url, migrate=migrate)
        return self._db

    def existing_database(self) -> Database:
        """The configured database for a command that only reads: a SQLite file that does not exist
        yet is an error (reading must not create an empty database)."""
        from monitor.store.errors import sqlite_path

        path = sqlite_path(self.config.database_url)
        if path is not None and not path.exists():
            raise ConfigError(
                f"no database at {path} yet: `model-monitor init` creates one, and `poll` or `eval` fill it"
            )
        return self.database()


class MonitorGroup(click.Group):
    """Turns MonitorError into a one-line message and its exit status; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            self._fail(ctx, exc)
        except Exception as exc:
            clear = _database_error(ctx, exc)
            if clear is None:
                raise
            self._fail(ctx, clear)

    def _fail(self, ctx: click.Context, exc: MonitorError) -> NoReturn:
        """One line on stderr (a JSON error object on stdout too under --json), then the exit status."""
        app = ctx.obj if isinstance(ctx.obj, AppContext) else None
        if app is not None and app.debug:
            raise exc
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        if app is not None and app.json:
            kind = getattr(exc, "kind", None) or type(exc).__name__.removesuffix("Error").lower()
            print_json({"error": {"kind": kind, "message": str(exc)}})
        ctx.exit(exc.exit_code)


def _database_error(ctx: click.Context, exc: Exception) -> MonitorError | None:
    """A database failure (read-only file, missing driver, bad URL) as a clear error, else None."""
    app = ctx.obj if isinstance(ctx.obj, AppContext) else None
    if app is None or app._config is None:
        return None
    from monitor.store.errors import explain

    return explain(exc, app._config.database_url)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $MODEL_MONITOR_CONFIG, then ./monitor.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(__version__, prog_name="model-monitor")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """Watch LLM providers for new models, rerun your evals on each, and report honestly."""
    ctx.obj = AppContext(config_path=config_path, debug=debug)
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


pass_app = click.make_pass_decorator(AppContext)


def json_option(func: F) -> F:
    """`--json`: print machine-readable output instead of tables."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print JSON for scripts.",
        callback=_note_json,
        expose_value=True,
    )(func)


def _note_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    """Remember --json on the app, so an error raised later is printed as JSON as well."""
    app = ctx.find_object(AppContext)
    if app is not None and value:
        app.json = True
    return value


def print_json(data: Any) -> None:
    """JSON on stdout, datetimes as ISO strings."""
    click.echo(json.dumps(data, indent=2, default=_json_default, sort_keys=False))


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__fspath__"):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
