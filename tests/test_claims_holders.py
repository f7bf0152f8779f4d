"""Run claims across processes that share a host name: a holder is dead only when its lock file proves it."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.pipeline.queue import claim_next_run, claim_run, holder_is_dead, new_worker_id
from monitor.service.daemon import release_dead_local_runs
from monitor.store.db import Database
from monitor.store.holders import Holder, hold, holder_state, lock_path, runtime_dir
from monitor.store.tables import Run, Suite, utcnow
from tests.holder_helpers import WAIT_S, claiming_process, database_url, dead_holder, sigkill


def _queued_run(db: Database) -> int:
    with db.session() as session:
        suite = Suite(name="tiny", version="v1", sample_count=1)
        session.add(suite)
        session.flush()
        run = Run(provider="sim", model_id="gpt-sim-base", suite_id=suite.id, trigger="new_model")
        session.add(run)
        session.flush()
        return run.id


def _running_run(db: Database, holder: str) -> int:
    run_id = _queued_run(db)
    with db.session() as session:
        session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(status="running", claimed_by=holder, heartbeat_at=utcnow())
        )
    return run_id


def _status(db: Database, run_id: int) -> tuple[str, str | None]:
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.status, run.claimed_by


@pytest.fixture
def unrelated_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that has nothing to do with model-monitor (its pid may be a dead holder's, reused)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield process
    process.kill()
    process.wait(timeout=WAIT_S)


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=WAIT_S)
    return child.pid


def test_a_claimer_killed_with_sigkill_is_proved_dead_and_its_run_resumes_at_once(any_db: Database) -> None:
    run_id = _queued_run(any_db)
    with claiming_process(any_db) as (process, worker, claimed):
        assert claimed == run_id and _status(any_db, run_id) == ("running", worker)
        assert holder_state(any_db.engine.url, worker) is Holder.ALIVE
        assert not claim_run(any_db, run_id, new_worker_id())  # a live holder keeps its run
        assert release_dead_local_runs(any_db, new_worker_id()) == 0

        sigkill(process)

        assert holder_is_dead(any_db, worker)
        assert release_dead_local_runs(any_db, new_worker_id()) == 1
    assert _status(any_db, run_id) == ("interrupted", worker)
    assert not lock_path(any_db.engine.url, worker).exists()  # released, so its lock file is gone
    assert claim_run(any_db, run_id, "resumer")


def test_a_claim_from_another_container_with_our_host_name_waits_for_its_heartbeat(any_db: Database) -> None:
    # Same host name, a pid that does not exist in our pid namespace, no lock file on our disk:
    # a worker in a sibling container, alive as far as anyone here can tell.
    sibling = f"{socket.gethostname()}:{_gone_pid()}:{secrets.token_hex(8)}"
    run_id = _running_run(any_db, sibling)

    assert not holder_is_dead(any_db, sibling)
    assert release_dead_local_runs(any_db, new_worker_id()) == 0
    assert not claim_run(any_db, run_id, "resumer")
    assert claim_next_run(any_db, "worker") is None
    assert _status(any_db, run_id) == ("running", sibling)

    with any_db.session() as session:
        stale = utcnow() - timedelta(minutes=10)
        session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=stale))
    assert claim_next_run(any_db, "worker") == run_id


def test_a_dead_holder_is_dead_though_an_unrelated_process_now_has_its_pid(
    any_db: Database, unrelated_process: subprocess.Popen[bytes]
) -> None:
    worker = f"{socket.gethostname()}:{unrelated_process.pid}:{secrets.token_hex(8)}"
    run_id = _queued_run(any_db)
    with claiming_process(any_db, worker) as (process, _, claimed):
        assert claimed == run_id
        sigkill(process)

    assert unrelated_process.poll() is None  # the pid in the worker id is alive...
    assert holder_is_dead(any_db, worker)  # ...but the holder is not
    assert release_dead_local_runs(any_db, new_worker_id()) == 1
    assert claim_run(any_db, run_id, "resumer")


def test_a_second_live_process_cannot_take_over_a_worker_id_held_here(db: Database) -> None:
    _queued_run(db)
    with claiming_process(db) as (_process, worker, _):
        assert not hold(db.engine.url, worker)
        assert holder_state(db.engine.url, worker) is Holder.ALIVE


def test_a_holder_that_exits_cleanly_leaves_no_lock_file(db: Database) -> None:
    worker = new_worker_id()
    script = "import sys; from monitor.store.holders import hold; assert hold(sys.argv[1], sys.argv[2])"
    subprocess.run([sys.executable, "-c", script, database_url(db), worker], check=True, timeout=WAIT_S)
    assert not lock_path(db.engine.url, worker).exists()
    assert holder_state(db.engine.url, worker) is Holder.UNKNOWN


def test_an_unwritable_runtime_directory_leaves_claims_working_and_holders_unknown(db: Database) -> None:
    blocked = runtime_dir(db.engine.url)
    blocked.write_text("not a directory")
    run_id = _queued_run(db)

    assert claim_next_run(db, "worker") == run_id
    assert holder_state(db.engine.url, "worker") is Holder.UNKNOWN
    assert release_dead_local_runs(db, new_worker_id()) == 0


def test_the_lock_files_sit_beside_a_sqlite_file_and_per_database_elsewhere(tmp_path: Path) -> None:
    assert runtime_dir(f"sqlite:///{tmp_path / 'monitor.db'}") == tmp_path / "monitor.db-workers"
    first = runtime_dir("postgresql+psycopg://monitor:secret@db.example/one")
    assert first != runtime_dir("postgresql+psycopg://monitor:secret@db.example/two")
    assert "secret" not in str(first)


def test_a_worker_id_of_any_characters_gets_a_safe_file_name(db: Database) -> None:
    odd = "../../etc/passwd: a name with / and spaces"
    assert hold(db.engine.url, odd)
    assert lock_path(db.engine.url, odd).parent == runtime_dir(db.engine.url)
    assert holder_state(db.engine.url, odd) is Holder.ALIVE
    assert dead_holder(db, "another odd / name") and holder_is_dead(db, "another odd / name")
