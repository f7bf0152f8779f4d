"""The [database] url check: SQLAlchemy's own verdict, without importing SQLAlchemy on config load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.core.config_values import DATABASE_BACKENDS, database_url_problem

URLS = [
    "sqlite:///monitor.db",
    "sqlite:////var/lib/monitor/monitor.db",
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite:///file:monitor.db?mode=ro&uri=true",
    "postgresql+psycopg://monitor@db.example.com/monitor",
    "postgresql+psycopg://monitor:s3cr%40t@db.example.com:5432/monitor?sslmode=require",
    "postgresql://u@[::1]:5432/db",
    "postgresql://u@host:/db",
    "postgresql://u@host:54x2/db",
    "postgresql://u@host:5_432/db",
    "mysql+pymysql://u@host/db",
    "oracle://u@host/db",
    "monitor.db",
    "sqlite:/monitor.db",
    "://host/db",
    "",
    "postgres ql://u@host/db",
]


def sqlalchemy_verdict(url: str) -> str:
    """'ok', 'unsupported' or 'invalid', as SQLAlchemy itself parses `url`."""
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return "invalid"
    return "ok" if backend in DATABASE_BACKENDS else "unsupported"


def our_verdict(url: str) -> str:
    problem = database_url_problem(url)
    if problem is None:
        return "ok"
    return "unsupported" if "unsupported database" in problem else "invalid"


@pytest.mark.parametrize("url", URLS)
def test_the_url_check_agrees_with_sqlalchemys_parser(url: str) -> None:
    assert our_verdict(url) == sqlalchemy_verdict(url)


def test_loading_the_config_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://monitor@db.example.com/monitor"\n')
    code = (
        "import sys; from monitor.core.config import load_config; "
        f"load_config({str(config)!r}); print('sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
