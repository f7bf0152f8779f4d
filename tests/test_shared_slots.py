"""Concurrency and tokens per minute shared across processes: leases on slots, tokens in minute windows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from monitor.providers import shared_slots
from monitor.providers.shared import SharedTokens
from monitor.providers.shared_slots import LEASE_S, SharedSlots
from monitor.store.db import Database, open_database
from monitor.store.shared_slots import fair_share, hold_slots
from monitor.store.tables import ConcurrencyLease
from tests.fake_clock import FakeClock
from tests.test_shared_limits import WINDOW, _in_threads

ACCOUNT = "openai https://api.example/v1 KEY"


@pytest.fixture
def engines(any_db_url: str) -> Iterator[list[Database]]:
    """Two engines on one database, as two processes (or hosts) would have."""
    open_database(any_db_url).dispose()
    dbs = [open_database(any_db_url, migrate=False) for _ in range(2)]
    yield dbs
    for db in dbs:
        db.dispose()


def test_processes_taking_slots_at_once_never_hold_more_than_the_limit(any_db_url: str) -> None:
    open_database(any_db_url).dispose()
    dbs = [open_database(any_db_url, migrate=False) for _ in range(4)]
    try:
        held = _in_threads(
            4,
            lambda i: (
                hold_slots(
                    dbs[i], ACCOUNT, f"p{i}", target=3, wanted=3, limit=8, now=WINDOW, lease_s=LEASE_S
                ).slots
            ),
        )
    finally:
        for db in dbs:
            db.dispose()
    assert sum(held) == 8


def test_two_processes_in_flight_together_never_pass_max_concurrency(engines: list[Database]) -> None:
    """Each process runs its own event loop in a thread, 6 requests at a time, against 3 shared slots."""
    lock = threading.Lock()
    in_flight = peak = done = 0

    def process(i: int) -> None:
        slots = SharedSlots(engines[i], ACCOUNT, 3, heartbeat_s=0.05)

        async def one() -> None:
            nonlocal in_flight, peak, done
            for _ in range(3):
                await slots.acquire()
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                await asyncio.sleep(0.01)
                with lock:
                    in_flight -= 1
                    done += 1
                slots.release()

        async def main() -> None:
            await asyncio.gather(*(one() for _ in range(6)))

        asyncio.run(main())

    _in_threads(2, process)
    assert peak <= 3 and done == 36


def test_a_crashed_holders_slots_come_back_after_the_lease(engines: list[Database]) -> None:
    clock = FakeClock(WINDOW)
    crashed = SharedSlots(engines[0], ACCOUNT, 4, wall=clock, sleep=clock.sleep, heartbeat_s=None)
    waiting = SharedSlots(engines[1], ACCOUNT, 4, wall=clock, sleep=clock.sleep, heartbeat_s=None)

    async def main() -> float:
        for _ in range(4):
            await crashed.acquire()  # then it stops: no release, no renewal
        await waiting.acquire()
        return clock.now

    got_at = asyncio.run(main())
    assert WINDOW + LEASE_S <= got_at < WINDOW + LEASE_S + 1
    with engines[1].session() as session:
        holders = session.scalars(select(ConcurrencyLease.holder).where(ConcurrencyLease.holder != "")).all()
    assert holders == [waiting.holder]


def test_a_holder_over_its_fair_share_gives_slots_back_to_a_waiting_one(engines: list[Database]) -> None:
    clock = FakeClock(WINDOW)
    busy = SharedSlots(engines[0], ACCOUNT, 4, wall=clock, sleep=clock.sleep, heartbeat_s=None)
    late = SharedSlots(engines[1], ACCOUNT, 4, wall=clock, sleep=clock.sleep, heartbeat_s=None)

    async def main() -> None:
        for _ in range(4):
            await busy.acquire()
        waiter = asyncio.create_task(late.acquire())
        await asyncio.sleep(0.05)  # the late process has asked and recorded that it waits
        assert not waiter.done()
        busy.renew()  # the heartbeat learns the fair share: 3 of 4
        assert busy.share == 3
        busy.release()
        busy.renew()  # and gives the slot back
        await asyncio.wait_for(waiter, 10)

    asyncio.run(main())
    assert (busy.held, busy.in_use, late.held, late.in_use) == (3, 3, 1, 1)


def test_an_idle_process_gives_all_its_slots_back_at_its_next_heartbeat(engines: list[Database]) -> None:
    clock = FakeClock(WINDOW)
    slots = SharedSlots(engines[0], ACCOUNT, 8, wall=clock, sleep=clock.sleep, heartbeat_s=None)

    async def main() -> None:
        await slots.acquire()
        slots.release()

    asyncio.run(main())
    assert slots.held > 0
    slots.renew()
    assert slots.held == 0
    with engines[0].session() as session:
        assert (
            session.scalars(select(ConcurrencyLease.holder).where(ConcurrencyLease.holder != "")).all() == []
        )


def test_most_requests_need_no_round_trip(engines: list[Database]) -> None:
    slots = SharedSlots(engines[0], ACCOUNT, 16, heartbeat_s=None)

    async def main() -> None:
        for _ in range(100):
            await slots.acquire()
            slots.release()

    asyncio.run(main())
    assert slots.trips == 1


@pytest.mark.parametrize(
    ("mine", "others", "share"), [(10, [10], 4), (10, [1], 7), (2, [10, 10], 2), (10, [10, 10, 10], 2)]
)
def test_a_fair_share_splits_evenly_and_leaves_what_a_holder_does_not_want(
    mine: int, others: list[int], share: int
) -> None:
    assert fair_share(8, mine, others) == share


def _reserve_until_spent(db: Database, per_request: int) -> int:
    """Reserve `per_request` tokens until the window is spent for this process; how many it reserved."""
    tokens = SharedTokens(db, ACCOUNT, 1000, wall=lambda: WINDOW + 5)
    reserved = 0
    while tokens.try_take(per_request) == 0.0:
        reserved += per_request
    return reserved


def test_processes_reserving_tokens_together_stay_within_tokens_per_minute(any_db_url: str) -> None:
    open_database(any_db_url).dispose()
    dbs = [open_database(any_db_url, migrate=False) for _ in range(3)]
    try:
        reserved = _in_threads(3, lambda i: _reserve_until_spent(dbs[i], 70))
    finally:
        for db in dbs:
            db.dispose()
    assert 1000 - 3 * 70 < sum(reserved) <= 1000


def test_tokens_used_beyond_the_estimate_are_paid_from_the_next_reservations(db: Database) -> None:
    tokens = SharedTokens(db, ACCOUNT, 1000, wall=lambda: WINDOW + 5)
    assert tokens.try_take(100) == 0.0
    tokens.settle(100, 400)  # the answer was longer than estimated
    reserved = 0
    while tokens.try_take(100) == 0.0:
        reserved += 100
    assert reserved == 600  # 100 + 300 more used + 600 = the limit


def test_tokens_not_used_go_back_to_the_process_for_this_window(db: Database) -> None:
    tokens = SharedTokens(db, ACCOUNT, 1000, wall=lambda: WINDOW + 5)
    assert tokens.try_take(500) == 0.0
    tokens.settle(500, 100)
    assert tokens.try_take(800) == 0.0
    assert tokens.taken == 900  # 500, of which 400 came back and went to the next request


def test_a_request_cancelled_while_its_slot_is_taken_gives_the_slot_back(
    engines: list[Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round trip that takes the slot ends after its caller was cancelled: the slot is not kept."""
    go_on = threading.Event()
    real_hold = shared_slots.hold_slots

    def held_back(*args: Any, **kwargs: Any) -> Any:
        go_on.wait(10)
        return real_hold(*args, **kwargs)

    monkeypatch.setattr(shared_slots, "hold_slots", held_back)
    slots = SharedSlots(engines[0], ACCOUNT, 2, heartbeat_s=None)

    async def main() -> None:
        waiter = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0.05)  # its round trip is under way
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        go_on.set()
        for _ in range(500):
            if slots.trips:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert (slots.trips, slots.held, slots.in_use) == (1, 2, 0)
