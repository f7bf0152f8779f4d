"""Copying a whole database to another (SQLite to PostgreSQL): batched, all-or-nothing, verified.

Every table of the schema is streamed in primary-key order and inserted in batches inside one
transaction on the target; each table's row count and a SHA-256 of its rows are compared on both
sides before that transaction commits, so a failed or mismatched copy leaves the target as it was.
Leases (who leads now, who holds concurrency slots), the shared send schedules and APScheduler's
job table are not copied: the processes recreate them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text

from monitor.core.errors import ConfigError, MonitorError
from monitor.store import db as storage
from monitor.store.tables import Base

BATCH_ROWS = 2000
SKIPPED_TABLES = frozenset({"leases", "concurrency_leases", "rate_schedules"})
"""Tables not copied: live state of the old database's processes (who leads, who holds concurrency
slots, the next free send time), which the processes on the new one recreate."""


@dataclass(frozen=True)
class TableCopy:
    """One table's outcome: rows copied and the checksum both sides agreed on."""

    table: str
    rows: int
    checksum: str


def _plain(value: Any) -> Any:
    """A value in a form both databases give back alike (aware UTC datetimes, exact floats, text
    without the NUL characters PostgreSQL cannot store)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


def _storable(row: dict[str, Any]) -> dict[str, Any]:
    """A row as written to the target: NUL characters dropped from text (PostgreSQL rejects them)."""
    return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in row.items()}


def _rows(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in primary-key order, BATCH_ROWS at a time (a server-side cursor on PostgreSQL)."""
    query = select(table).order_by(*table.primary_key.columns)
    result = conn.execute(query, execution_options={"yield_per": BATCH_ROWS})
    for batch in result.mappings().partitions(BATCH_ROWS):
        yield [dict(row) for row in batch]


class _Digest:
    """A table's row count and the SHA-256 of its rows, canonical, fed in primary-key order."""

    def __init__(self, table: Table) -> None:
        self._names = [c.name for c in table.columns]
        self._sha = hashlib.sha256()
        self.count = 0

    def add(self, batch: list[dict[str, Any]]) -> None:
        for row in batch:
            self._sha.update(json.dumps([_plain(row[n]) for n in self._names], default=str).encode())
            self._sha.update(b"\n")
        self.count += len(batch)

    def result(self) -> tuple[int, str]:
        return self.count, self._sha.hexdigest()


def _digest(conn: Connection, table: Table) -> tuple[int, str]:
    """The digest of the table as `conn` reads it."""
    digest = _Digest(table)
    for batch in _rows(conn, table):
        digest.add(batch)
    return digest.result()


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _check_empty(target: Engine) -> None:
    """Refuse a target that already holds any row of the schema (a copy never merges)."""
    existing = set(inspect(target).get_table_names())
    with target.connect() as conn:
        for table in _tables():
            if table.name in existing and conn.execute(select(func.count()).select_from(table)).scalar():
                raise ConfigError(
                    f"the target database is not empty (table {table.name} has rows); "
                    "copy into a new, empty database"
                )


def _reset_sequences(conn: Connection, table: Table) -> None:
    """On PostgreSQL, move an integer id's sequence past the copied ids (inserts gave them explicitly)."""
    if conn.dialect.name != "postgresql" or "id" not in table.columns:
        return
    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
        )
    )


def copy_database(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> list[TableCopy]:
    """Copy every table of `source` into the empty `target` (schema created by migrations first).

    Raises ConfigError for a non-empty target and MonitorError when a table's count or checksum
    differs after the copy; either way the target's data is rolled back.
    """
    if storage.current_revision(source) != storage.head_revision():
        raise ConfigError("the source database is not at the newest schema: run `model-monitor db upgrade`")
    _check_empty(target)
    storage.upgrade(target)
    copies: list[TableCopy] = []
    with source.connect() as read, target.begin() as write:
        for table in _tables():
            read_digest = _Digest(table)  # the rows as read for the copy: the table is read once
            for batch in _rows(read, table):
                write.execute(insert(table), [_storable(row) for row in batch])
                read_digest.add(batch)
                if progress is not None:
                    progress(table.name, read_digest.count)
            _reset_sequences(write, table)
            source_count, source_sum = read_digest.result()
            target_count, target_sum = _digest(write, table)
            if (source_count, source_sum) != (target_count, target_sum):
                raise MonitorError(
                    f"table {table.name}: the copy does not match the source "
                    f"({target_count} rows vs {source_count}, checksums differ: {target_sum != source_sum}); "
                    "nothing was kept"
                )
            copies.append(TableCopy(table.name, source_count, source_sum))
    return copies
