"""`model-monitor db copy --to URL`: move every row to a new database (SQLite to PostgreSQL), verified."""

from __future__ import annotations

import click

from monitor.cli.app import AppContext, console, json_option, pass_app, print_json
from monitor.cli.setup import db
from monitor.core.errors import ConfigError


@db.command("copy")
@click.option("--to", "target_url", required=True, help="SQLAlchemy URL of the new, empty database.")
@json_option
@pass_app
def db_copy(app: AppContext, target_url: str, as_json: bool) -> None:
    """Copy this database into an empty one, all or nothing, checking each table's rows and checksum.

    Point `[database] url` at the new database afterwards; the old one is left untouched.
    """
    from sqlalchemy.engine import make_url

    from monitor.core.config_values import database_url_problem
    from monitor.store import db as storage
    from monitor.store.copy import copy_database

    problem = database_url_problem(target_url)
    if problem is not None:
        raise ConfigError(problem.replace("[database] url", "--to", 1))
    url = make_url(target_url)
    shown = url.render_as_string(hide_password=True)
    if url == make_url(app.config.database_url):
        raise ConfigError("--to: the target is the configured database itself")
    source = storage.make_engine(app.config.database_url)
    target = storage.make_engine(target_url)
    try:
        copies = copy_database(source, target)
    finally:
        source.dispose()
        target.dispose()
    if as_json:
        print_json({"target": shown, "tables": [c.__dict__ for c in copies]})
        return
    for c in copies:
        console.print(f"{c.table:<16} {c.rows:>10,} rows  sha256 {c.checksum[:16]}")
    console.print(f"copied to {shown}: every table's count and checksum match")
