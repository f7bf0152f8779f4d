"""`model-monitor db copy --to URL`: move every row to a new database (SQLite to PostgreSQL), verified."""

from __future__ import annotations

import json

import click

from monitor.cli.app import AppContext, console, pass_app
from monitor.cli.setup import db
from monitor.core.errors import ConfigError


@db.command("copy")
@click.option("--to", "target_url", required=True, help="SQLAlchemy URL of the new, empty database.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-table counts and checksums as JSON.")
@pass_app
def db_copy(app: AppContext, target_url: str, as_json: bool) -> None:
    """Copy this database into an empty one, all or nothing, checking each table's rows and checksum.

    Point `[database] url` at the new database afterwards; the old one is left untouched.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from monitor.store import db as storage
    from monitor.store.copy import copy_database

    try:
        url = make_url(target_url)
    except ArgumentError:
        raise ConfigError(
            f"--to: {target_url!r} is not a database URL (e.g. postgresql+psycopg://host/db)"
        ) from None
    shown = url.render_as_string(hide_password=True)
    if url.render_as_string(hide_password=False) == make_url(app.config.database_url).render_as_string(
        hide_password=False
    ):
        raise ConfigError("--to: the target is the configured database itself")
    source = storage.make_engine(app.config.database_url)
    target = storage.make_engine(url.render_as_string(hide_password=False))
    try:
        copies = copy_database(source, target)
    finally:
        source.dispose()
        target.dispose()
    if as_json:
        click.echo(json.dumps({"target": shown, "tables": [c.__dict__ for c in copies]}, indent=2))
        return
    for c in copies:
        console.print(f"{c.table:<16} {c.rows:>10,} rows  sha256 {c.checksum[:16]}")
    console.print(f"copied to {shown}: every table's count and checksum match")
