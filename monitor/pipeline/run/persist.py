"""Store a run's results: one idempotent insert per batch, written off the event loop by one writer thread."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from monitor.core.errors import MonitorError
from monitor.pipeline.queue import heartbeat
from monitor.store.db import Database
from monitor.store.tables import Result

FLUSH_INTERVAL_S = 0.05
FLUSH_ROWS = 100
HEARTBEAT_INTERVAL_S = 10.0
# Rows waiting for the writer; a full queue holds the workers back instead of growing without bound.
QUEUE_ROWS = 4 * FLUSH_ROWS
# What no database text holds: NUL (PostgreSQL refuses it) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` with every unstorable character in its strings (keys too) as the escape reports show."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(_escape, value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def insert_results(db: Database, rows: list[dict[str, Any]]) -> None:
    """Insert result rows in one statement, skipping any (run, sample, repeat) already stored.

    Model output reaches text and JSON columns only through `storable`: one NUL in one answer
    would otherwise fail the whole batch on PostgreSQL.
    """
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(Result).on_conflict_do_nothing(
            index_elements=["run_id", "sample_key", "repeat"]
        )
    elif db.engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Result).on_conflict_do_nothing(index_elements=["run_id", "sample_key", "repeat"])
    else:
        raise MonitorError(f"unsupported database dialect {db.engine.dialect.name}")
    with db.engine.begin() as conn:
        conn.execute(stmt, [storable(row) for row in rows])


class ResultWriter:
    """The run's single writer: takes rows off a bounded queue, stores them in batches, heartbeats.

    Inserts and heartbeats run in one thread of their own, in order, so a database lock wait never
    stalls the requests in flight on the event loop.
    """

    def __init__(
        self,
        db: Database,
        run_id: int,
        worker_id: str,
        *,
        on_flush: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.run_id = run_id
        self.worker_id = worker_id
        self.on_flush = on_flush
        self.clock = clock
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=QUEUE_ROWS)
        self.pending: list[dict[str, Any]] = []
        self.closed = False
        self.lost_claim = False
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"run-{run_id}-writer")

    async def put(self, row: dict[str, Any]) -> None:
        """Hand a finished row to the writer, waiting while the queue is full."""
        await self.queue.put(row)

    async def close(self) -> None:
        """No more rows: the writer stores what is queued and returns."""
        await self.queue.put(None)

    async def run(self, halt: asyncio.Event) -> None:
        """Flush every FLUSH_INTERVAL_S or FLUSH_ROWS rows until closed; cancelled, store what is queued."""
        loop = asyncio.get_running_loop()
        last_beat = self.clock()
        try:
            while not self.closed:
                await self._collect()
                rows = self._drain()
                if rows:
                    await asyncio.shield(loop.run_in_executor(self.thread, insert_results, self.db, rows))
                    self.on_flush()
                if self.clock() - last_beat >= HEARTBEAT_INTERVAL_S:
                    last_beat = self.clock()
                    beat = loop.run_in_executor(self.thread, heartbeat, self.db, self.run_id, self.worker_id)
                    if not await asyncio.shield(beat):
                        self.lost_claim = True
                        halt.set()
        except asyncio.CancelledError:
            self.flush()  # every row a worker handed over is stored before the run ends
            raise
        finally:
            self.thread.shutdown(wait=True)

    async def _collect(self) -> None:
        try:
            async with asyncio.timeout(FLUSH_INTERVAL_S):
                while not self.closed and len(self.pending) < FLUSH_ROWS:
                    self._take(await self.queue.get())
        except TimeoutError:
            pass

    def _take(self, row: dict[str, Any] | None) -> None:
        if row is None:
            self.closed = True
        else:
            self.pending.append(row)

    def _drain(self) -> list[dict[str, Any]]:
        while not self.queue.empty():
            self._take(self.queue.get_nowait())
        rows, self.pending = self.pending, []
        return rows

    def flush(self) -> None:
        """Store every queued and pending row now, after any insert already in the writer thread."""
        rows = self._drain()
        if rows:
            self.thread.submit(insert_results, self.db, rows).result()
            self.on_flush()
