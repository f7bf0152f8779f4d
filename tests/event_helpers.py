"""Helpers for the event tests: an [email] table, the config on a given database, processes racing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from monitor.core.config import Config, DatabaseConfig
from monitor.store.db import Database, open_database
from tests.factories import make_config

EMAIL = """
[email]
smtp_host = "127.0.0.1"
smtp_port = 2525
security = "none"
from = "model-monitor@example.com"
to = ["team@example.com"]
"""
"""An e-mail table for a local SMTP port, so events are reported with a message."""


def config_on(tmp_path: Path, url: str, *, baseline: str = "sim:base", extra: str = "") -> Config:
    """make_config in tmp_path with its database at `url` (SQLite or PostgreSQL)."""
    config = make_config(tmp_path, baseline=baseline, extra=extra)
    return config.model_copy(update={"database": DatabaseConfig(url=url)})


def race(config: Config, processes: int, act: Callable[[Database], None]) -> None:
    """`act` in `processes` threads released at once, each with its own connection, as separate
    processes on one database would be."""
    start = threading.Barrier(processes)

    def one() -> None:
        own = open_database(config.database_url, migrate=False)
        start.wait()
        act(own)
        own.dispose()

    threads = [threading.Thread(target=one) for _ in range(processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
