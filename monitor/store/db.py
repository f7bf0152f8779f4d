"""One engine per process: SQLite tuned for safety (WAL, busy timeout, foreign keys), PostgreSQL timeouts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]\s*$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: give up connecting, or on one statement, after this long (a hung call is a failure).
PG_CONNECT_TIMEOUT_S = 10
PG_STATEMENT_TIMEOUT_MS = 300_000


@dataclass(frozen=True)
class Timeouts:
    """How long one connection waits: to connect (PostgreSQL), per statement, and for SQLite's lock."""

    connect_s: float = PG_CONNECT_TIMEOUT_S
    statement_ms: int = PG_STATEMENT_TIMEOUT_MS
    busy_ms: int = SQLITE_BUSY_TIMEOUT_MS


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and foreign keys, PostgreSQL connect and
    statement timeouts and TCP keepalives, so no call can hang for ever."""
    limits = timeouts or Timeouts()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": limits.busy_ms / 1000}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=limits.busy_ms))
        return engine
    if url.startswith("postgresql"):
        kwargs.setdefault(
            "connect_args",
            {
                "connect_timeout": max(1, round(limits.connect_s)),
                "options": f"-c statement_timeout={limits.statement_ms}",
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(url: str) -> Any:
    """An Alembic Config pointing at the packaged migrations and the given database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` on the engine's database (idempotent); a database already at
    the head costs one query, without importing Alembic or loading its scripts."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _script_heads() -> set[str] | None:
    """The head revisions, read from the migration files' `revision` and `down_revision` lines as text
    (Alembic imports every script to learn them); None when a file does not read as expected."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        named = re.findall(r"['\"]([^'\"]+)['\"]", down.group(1))
        if not named and down.group(1) != "None":
            return None
        revisions.add(revision.group(1))
        parents.update(named)
    return (revisions - parents) or None


def _at_head(engine: Engine) -> bool:
    """Whether the stored revisions are exactly the scripts' heads (False when unsure: Alembic decides)."""
    heads = _script_heads()
    if heads is None:
        return False
    with engine.connect() as conn:
        try:
            stored = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError:  # no version table yet: a new database
            return False
    return stored == heads


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


class Database:
    """The engine plus a session factory; `open_database` upgrades the schema first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A short transaction: commits on success, rolls back on error."""
        with self.sessionmaker() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True, timeouts: Timeouts | None = None) -> Database:
    """Open the database; commands that write call this with migrate=True (the default)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, timeouts=timeouts)
    if migrate:
        upgrade(engine)
    return Database(engine)


def dialect_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in the session's dialect (PostgreSQL or SQLite), the one that offers ON CONFLICT."""
    from sqlalchemy.dialects import postgresql, sqlite

    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)
