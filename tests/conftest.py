"""Shared fixtures: a real SQLite file per test, an optional PostgreSQL URL, config files on disk."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.store.db import Database, open_database

pytest_plugins = ["tests.fixtures.simulator", "tests.fixtures.smtp", "tests.fixtures.llamacpp"]

PG_ENV = "MODEL_MONITOR_TEST_PG_URL"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    """A migrated SQLite database in a real file."""
    database = open_database(sqlite_url)
    yield database
    database.dispose()


def _fresh_pg_database(base_url: str, name: str) -> str:
    from sqlalchemy import create_engine

    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on PostgreSQL (skipped, with the reason, without a server URL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return _fresh_pg_database(base, f"mm_test_{worker}_{abs(hash(request.node.nodeid)) % 10**8}")


@pytest.fixture
def any_db(any_db_url: str) -> Iterator[Database]:
    """A migrated database: SQLite file, then PostgreSQL."""
    database = open_database(any_db_url)
    yield database
    database.dispose()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a monitor.toml into tmp_path from a (dedented) string and return its path."""

    def write(body: str, name: str = "monitor.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body))
        return path

    return write
