"""Claim holders in other processes: one that claims a run and waits (to be killed), one already dead."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from monitor.store.db import Database

WAIT_S = 60.0

_CLAIMER = textwrap.dedent(
    """
    import sys, time
    from monitor.pipeline.queue import claim_next_run, new_worker_id
    from monitor.store.db import open_database

    db = open_database(sys.argv[1], migrate=False)
    worker = sys.argv[2] or new_worker_id()
    print(worker, claim_next_run(db, worker), flush=True)
    time.sleep(600)
    """
)

_HOLD_AND_DIE = textwrap.dedent(
    """
    import os, sys
    from monitor.store.holders import hold

    assert hold(sys.argv[1], sys.argv[2])
    os._exit(0)  # no clean exit: the lock file stays, as after a crash
    """
)


def database_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@contextmanager
def claiming_process(db: Database, worker_id: str = "") -> Iterator[tuple[subprocess.Popen[str], str, int]]:
    """A process that claims the next run (as `worker_id`, or its own new id) and sleeps; killed after."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CLAIMER, database_url(db), worker_id], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        worker, run_id = process.stdout.readline().split()
        yield process, worker, int(run_id)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT_S)


def sigkill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT_S)


def dead_holder(db: Database, worker_id: str) -> str:
    """`worker_id` as held by a process that then died without cleaning up (its lock file is free)."""
    subprocess.run(
        [sys.executable, "-c", _HOLD_AND_DIE, database_url(db), worker_id], check=True, timeout=WAIT_S
    )
    return worker_id
