"""The run's result writer stores rows off the event loop: a database lock never freezes calls in flight."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from monitor.pipeline.run.persist import ResultWriter
from monitor.store.db import Database
from monitor.store.tables import Result, utcnow
from tests.factories import add_run, add_suite


def _row(run_id: int, key: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "sample_key": key,
        "repeat": 0,
        "prompt_hash": "h",
        "created_at": utcnow(),
        "output": "4",
        "score": 1.0,
        "passed": True,
        "grades": [],
        "error_kind": None,
        "error_message": None,
        "attempts": 1,
        "latency_ms": 10.0,
        "input_tokens": 5,
        "output_tokens": 1,
        "cost_usd": None,
        "finish_reason": "stop",
        "resolved_model": None,
        "system_fingerprint": None,
    }


def _queued_run(db: Database) -> int:
    with db.session() as session:
        suite = add_suite(session, size=2)
        return add_run(session, suite, "sim:m", [], status="running").id


def test_the_event_loop_keeps_running_while_the_writer_waits_for_a_database_lock(
    db: Database, tmp_path: Path
) -> None:
    run_id = _queued_run(db)
    inserting = threading.Event()

    @event.listens_for(db.engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO results"):
            inserting.set()

    blocker = sqlite3.connect(tmp_path / "monitor.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    flushed: list[bool] = []
    writer = ResultWriter(db, run_id, "w1", on_flush=lambda: flushed.append(True))

    async def scenario() -> bool:
        halt = asyncio.Event()
        task = asyncio.create_task(writer.run(halt))
        await writer.put(_row(run_id, "s000"))
        while not inserting.is_set():  # a synchronous insert would block the loop here until it failed
            await asyncio.sleep(0.01)
        ran_during_insert = not flushed
        blocker.execute("COMMIT")
        await writer.close()
        await asyncio.wait_for(task, timeout=60)
        return ran_during_insert

    assert asyncio.run(scenario()) is True
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1
    blocker.close()


def test_a_cancelled_writer_stores_every_row_handed_over_before_it_returns(db: Database) -> None:
    run_id = _queued_run(db)
    writer = ResultWriter(db, run_id, "w1", on_flush=lambda: None)

    async def scenario() -> None:
        task = asyncio.create_task(writer.run(asyncio.Event()))
        await asyncio.sleep(0)  # the writer is collecting, as it is once a run's workers hand rows over
        await writer.put(_row(run_id, "s000"))
        await writer.put(_row(run_id, "s001"))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 2
