"""The leader lease on SQLite and PostgreSQL: one holder at a time, expiry, renewal, release, races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from monitor.store.db import Database
from monitor.store.lease import LeaderLease
from monitor.store.tables import utcnow


class HandClock:
    """UTC now that starts at the real now and moves only when the test says so."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def an_hour_ago() -> datetime:
    return utcnow() - timedelta(hours=1)


def test_first_process_takes_the_free_lease(any_db: Database) -> None:
    lease = LeaderLease(any_db, "a", ttl_s=30)
    assert lease.try_acquire()
    state = lease.state()
    assert state is not None and state.holder == "a" and not state.expired()


def test_second_process_cannot_take_a_live_lease(any_db: Database) -> None:
    assert LeaderLease(any_db, "a", ttl_s=30).try_acquire()
    assert not LeaderLease(any_db, "b", ttl_s=30).try_acquire()
    state = LeaderLease(any_db, "b").state()
    assert state is not None and state.holder == "a"


def test_holder_reacquiring_keeps_its_lease_and_start_time(any_db: Database) -> None:
    lease = LeaderLease(any_db, "a", ttl_s=30)
    assert lease.try_acquire()
    first = lease.state()
    assert lease.try_acquire()
    again = lease.state()
    assert first is not None and again is not None
    assert again.acquired_at == first.acquired_at and again.expires_at >= first.expires_at


def test_expired_lease_is_taken_over_and_the_old_holder_cannot_renew(any_db: Database) -> None:
    clock = HandClock()
    old = LeaderLease(any_db, "a", ttl_s=30, clock=clock)
    new = LeaderLease(any_db, "b", ttl_s=30, clock=clock)
    assert old.try_acquire()
    clock.advance(31)
    assert new.try_acquire()
    assert not old.renew()
    state = new.state()
    assert state is not None and state.holder == "b"


def test_renewal_pushes_the_expiry_forward(any_db: Database) -> None:
    clock = HandClock()
    lease = LeaderLease(any_db, "a", ttl_s=30, clock=clock)
    assert lease.try_acquire()
    for _ in range(4):
        clock.advance(20)
        assert lease.renew()
    assert not LeaderLease(any_db, "b", ttl_s=30, clock=clock).try_acquire()  # 80 s on, still held


def test_released_lease_is_free_at_once(any_db: Database) -> None:
    holder = LeaderLease(any_db, "a", ttl_s=30)
    assert holder.try_acquire()
    holder.release()
    assert holder.state() is None
    assert LeaderLease(any_db, "b", ttl_s=30).try_acquire()


def test_release_by_a_non_holder_changes_nothing(any_db: Database) -> None:
    assert LeaderLease(any_db, "a", ttl_s=30).try_acquire()
    LeaderLease(any_db, "b", ttl_s=30).release()
    state = LeaderLease(any_db, "a").state()
    assert state is not None and state.holder == "a"


def test_many_racing_processes_elect_exactly_one_leader(any_db: Database) -> None:
    start = threading.Barrier(8)
    winners: list[str] = []

    def contend(name: str) -> None:
        lease = LeaderLease(any_db, name, ttl_s=30)
        start.wait()
        if lease.try_acquire():
            winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    state = LeaderLease(any_db, "x").state()
    assert state is not None and state.holder == winners[0]


def test_racing_takeover_of_an_expired_lease_elects_exactly_one(any_db: Database) -> None:
    assert LeaderLease(any_db, "dead", ttl_s=30, clock=an_hour_ago).try_acquire()
    start = threading.Barrier(6)
    winners: list[str] = []

    def contend(name: str) -> None:
        lease = LeaderLease(any_db, name, ttl_s=30)
        start.wait()
        if lease.try_acquire():
            winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
