"""The run queue: atomic claims on SQLite and PostgreSQL, heartbeats, and reclaiming a dead worker's run."""

from __future__ import annotations

import threading
from datetime import timedelta

from monitor.pipeline.queue import claim_next_run, claim_run, heartbeat, holder_is_dead, new_worker_id
from monitor.store.db import Database
from monitor.store.holders import hold
from monitor.store.tables import Run, Suite, utcnow
from tests.holder_helpers import dead_holder


def _suite(db: Database) -> int:
    with db.session() as session:
        suite = Suite(name="tiny", version="v1", sample_count=1)
        session.add(suite)
        session.flush()
        return suite.id


def _run(db: Database, suite_id: int, **values: object) -> int:
    with db.session() as session:
        fields = {"trigger": "new_model", **values}
        run = Run(provider="sim", model_id="gpt-sim-base", suite_id=suite_id, **fields)
        session.add(run)
        session.flush()
        return run.id


def test_claim_takes_the_oldest_queued_run_and_marks_it_running(any_db: Database) -> None:
    suite_id = _suite(any_db)
    first = _run(any_db, suite_id, created_at=utcnow() - timedelta(minutes=5))
    _run(any_db, suite_id)
    assert claim_next_run(any_db, "w1") == first
    with any_db.session() as session:
        run = session.get(Run, first)
        assert run is not None
        assert (run.status, run.claimed_by) == ("running", "w1")
        assert run.heartbeat_at is not None


def test_claim_returns_none_when_nothing_is_claimable(any_db: Database) -> None:
    suite_id = _suite(any_db)
    _run(any_db, suite_id, status="done")
    _run(any_db, suite_id, status="running", claimed_by="alive", heartbeat_at=utcnow())
    _run(any_db, suite_id, status="interrupted", trigger="manual")
    assert claim_next_run(any_db, "w1") is None


def test_two_workers_claim_two_runs_never_the_same(any_db: Database) -> None:
    suite_id = _suite(any_db)
    ids = {_run(any_db, suite_id) for _ in range(2)}
    barrier = threading.Barrier(2)
    claimed: dict[str, int | None] = {}

    def work(name: str) -> None:
        barrier.wait()
        claimed[name] = claim_next_run(any_db, name)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(claimed.values()) == ids
    with any_db.session() as session:
        holders = {run.id: run.claimed_by for run in session.query(Run)}
    assert {holders[claimed["w0"]], holders[claimed["w1"]]} == {"w0", "w1"}  # type: ignore[index]


def test_many_workers_racing_for_one_run_claim_it_once(any_db: Database) -> None:
    suite_id = _suite(any_db)
    only = _run(any_db, suite_id)
    barrier = threading.Barrier(4)
    results: list[int | None] = []

    def work(name: str) -> None:
        barrier.wait()
        results.append(claim_next_run(any_db, name))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda r: r or 0) == [None, None, None, only]


def test_a_running_run_with_a_stale_heartbeat_is_reclaimed(any_db: Database) -> None:
    suite_id = _suite(any_db)
    stale = _run(
        any_db, suite_id, status="running", claimed_by="dead", heartbeat_at=utcnow() - timedelta(minutes=10)
    )
    assert claim_next_run(any_db, "w2", stale_after_s=120) == stale
    assert heartbeat(any_db, stale, "dead") is False
    assert heartbeat(any_db, stale, "w2") is True


def test_a_running_run_with_a_fresh_heartbeat_is_left_alone(any_db: Database) -> None:
    suite_id = _suite(any_db)
    _run(any_db, suite_id, status="running", claimed_by="alive", heartbeat_at=utcnow() - timedelta(seconds=5))
    assert claim_next_run(any_db, "w2", stale_after_s=120) is None


def test_an_interrupted_scheduled_run_is_claimed_again(any_db: Database) -> None:
    suite_id = _suite(any_db)
    stopped = _run(any_db, suite_id, status="interrupted")
    assert claim_next_run(any_db, "w1") == stopped


def test_resume_claims_a_run_whose_local_holder_process_is_gone(db: Database) -> None:
    suite_id = _suite(db)
    gone = dead_holder(db, new_worker_id())
    assert holder_is_dead(db, gone)
    run_id = _run(db, suite_id, status="running", claimed_by=gone, heartbeat_at=utcnow())
    assert claim_run(db, run_id, "me")


def test_resume_refuses_a_run_held_by_a_live_worker(db: Database) -> None:
    suite_id = _suite(db)
    live = new_worker_id()
    hold(db.engine.url, live)
    assert not holder_is_dead(db, live)
    run_id = _run(db, suite_id, status="running", claimed_by=live, heartbeat_at=utcnow())
    assert not claim_run(db, run_id, "me")
