"""Limits and budgets shared across processes: requests/min windows and the daily budget, in the database."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from monitor.core.config import Config, ProviderConfig
from monitor.pipeline.run import guard
from monitor.pipeline.run.guard import estimate_for_run, guard_run
from monitor.providers import spending
from monitor.providers.limits import Account, InProcessLimiters, Limits, ProviderLimiter, limiter_for
from monitor.providers.shared import SharedLimits, SharedRequests
from monitor.store.db import Database, open_database
from monitor.store.tables import BudgetDay, BudgetHold, Run
from tests.fake_clock import FakeClock
from tests.runner_helpers import manual_run, open_workspace, write_workspace

WINDOW = 1_800_000_000.0  # a window start (epoch seconds, a multiple of 60)
NOWHERE = "http://127.0.0.1:9"  # the guard never calls the provider


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads started together; return their results (re-raising a failure)."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count, timeout=30)

    def main(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=main, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def _send_times(db: Database, wall: Callable[[], float], per_minute: int, count: int) -> list[float]:
    """The send times one process gets for `count` requests in a row (it would send each at its time)."""
    shared = SharedRequests(db, "openai https://api.example/v1 KEY", per_minute, wall=wall)
    return [wall() + shared.try_take() for _ in range(count)]


def test_processes_sharing_a_schedule_never_send_faster_than_the_limit_together(any_db_url: str) -> None:
    """Each thread has its own engine (as a process would): their send times, taken at once, are all at
    least 60 / limit seconds apart, so no span of a minute holds more than the limit."""
    open_database(any_db_url).dispose()
    dbs = [open_database(any_db_url, migrate=False) for _ in range(3)]
    try:
        times = sorted(
            t
            for batch in _in_threads(3, lambda i: _send_times(dbs[i], lambda: WINDOW, 120, 40))
            for t in batch
        )
    finally:
        for db in dbs:
            db.dispose()
    assert len(times) == 120 and times[0] == WINDOW
    assert min(b - a for a, b in itertools.pairwise(times)) == pytest.approx(0.5)
    assert max(sum(1 for t in times if start <= t < start + 60) for start in times) == 120


def test_a_process_sends_at_its_reserved_times_and_never_saves_idle_time_for_a_burst(db: Database) -> None:
    """Two limiters (two processes) of one account at 12/min: requests go out 5 s apart, whichever
    process sends them; after a quiet minute the next request goes at once, the one after 5 s later."""
    clock = FakeClock(WINDOW + 10)
    limiters = [
        ProviderLimiter(
            4,
            shared=SharedLimits(requests=SharedRequests(db, "acct", 12, wall=clock, sleep=clock.sleep)),
            clock=clock,
            sleep=clock.sleep,
        )
        for _ in range(2)
    ]

    async def send(count: int) -> list[float]:
        times: list[float] = []
        for i in range(count):
            limiter = limiters[i % 2]
            await limiter.acquire()
            limiter.release()
            times.append(clock.now)
        return times

    times = asyncio.run(send(14))
    assert min(b - a for a, b in itertools.pairwise(times)) >= 5.0 - 1e-9
    clock.now += 60
    asked = clock.now
    quiet = asyncio.run(send(2))
    assert quiet == [pytest.approx(asked), pytest.approx(asked + 5.0)]


def test_shared_limits_are_opt_in_per_provider(db: Database) -> None:
    registry = InProcessLimiters()
    plain = ProviderConfig(type="openai", requests_per_minute=60)
    shared = ProviderConfig(
        type="openai", base_url="https://other.example/v1", requests_per_minute=60, shared_limits=True
    )
    registry.share_through(db)
    assert isinstance(limiter := registry.get(*_keys(plain)), ProviderLimiter) and limiter.shared is None
    assert isinstance(limiter := registry.get(*_keys(shared)), ProviderLimiter) and limiter.shared is not None
    assert (
        isinstance(default := limiter_for(shared), ProviderLimiter) and default.shared is None
    )  # no database


def _keys(cfg: ProviderConfig) -> tuple[Account, Limits]:
    return Account.of(cfg), Limits.of(cfg)


def _budget_workspace(
    tmp_path: Path, url: str, budget_of: Callable[[float], float]
) -> tuple[Config, Database, list[int], float]:
    """Two claimed runs of one suite, and a daily budget of `budget_of(one run's estimate)`."""
    probe, db, spec = open_workspace(write_workspace(tmp_path, NOWHERE, samples=6, database_url=url))
    runs = [manual_run(db, probe, spec)[0] for _ in range(2)]
    estimate = estimate_for_run(db, probe, runs[0]).cost_usd
    db.dispose()
    budget = f"[budget]\nmax_cost_usd_per_day = {budget_of(estimate)!r}\n"
    config, db, _ = open_workspace(
        write_workspace(tmp_path, NOWHERE, samples=6, database_url=url, budget=budget)
    )
    return config, db, runs, estimate


def test_two_workers_racing_for_a_budget_that_fits_one_run_pass_once(
    tmp_path: Path, any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read the budget before either commits (forced on PostgreSQL); only one reservation fits."""
    config, db, runs, estimate = _budget_workspace(tmp_path, any_db_url, lambda e: 1.5 * e)
    if any_db_url.startswith("postgresql"):  # SQLite serialises writers: there is no such interleaving
        both_read = threading.Barrier(2, timeout=30)
        real_check = spending.check_budget

        def check_then_wait(*args: Any, **kwargs: Any) -> spending.BudgetCheck:
            result = real_check(*args, **kwargs)
            both_read.wait()
            return result

        monkeypatch.setattr(guard.spending, "check_budget", check_then_wait)
    dbs = [open_database(any_db_url, migrate=False) for _ in range(2)]
    try:
        checks = _in_threads(2, lambda i: guard_run(dbs[i], config, runs[i]))
    finally:
        for worker_db in dbs:
            worker_db.dispose()
    assert sorted(c.ok for c in checks) == [False, True]
    assert "remaining budget" in next(c for c in checks if not c.ok).explain()
    with db.session() as session:
        assert session.scalar(select(BudgetDay.reserved_usd)) == pytest.approx(estimate)
        assert session.scalars(select(BudgetHold.run_id)).all() == [runs[[c.ok for c in checks].index(True)]]
    db.dispose()


@pytest.mark.parametrize("status", ["done", "failed", "interrupted"])
def test_a_finished_run_gives_back_its_reservation_and_counts_its_real_cost(
    tmp_path: Path, sqlite_url: str, status: str
) -> None:
    config, db, runs, estimate = _budget_workspace(tmp_path, sqlite_url, lambda e: 1.5 * e)
    assert guard_run(db, config, runs[0]).ok
    assert not guard_run(db, config, runs[1]).ok  # the first run's reservation holds the budget
    with db.session() as session:
        session.execute(update(Run).where(Run.id == runs[0]).values(status=status, cost_usd=0.25 * estimate))
    assert guard_run(db, config, runs[1]).ok  # settled at a quarter of its estimate: the second fits
    with db.session() as session:
        day = session.scalars(select(BudgetDay)).one()
        assert (day.reserved_usd, day.spent_usd) == (pytest.approx(estimate), pytest.approx(0.25 * estimate))
        assert session.get(BudgetHold, runs[0]).open is False  # type: ignore[union-attr]


@pytest.mark.parametrize("status", ["waiting", "queued"])
def test_a_run_waiting_on_its_batch_or_queued_to_collect_it_keeps_its_reservation(
    tmp_path: Path, sqlite_url: str, status: str
) -> None:
    """Its batch is paid for when it ends: settling it at its cost so far (0) would free the budget."""
    config, db, runs, _ = _budget_workspace(tmp_path, sqlite_url, lambda e: 1.5 * e)
    assert guard_run(db, config, runs[0]).ok
    with db.session() as session:
        session.execute(update(Run).where(Run.id == runs[0]).values(status=status, cost_usd=0.0))
    assert not guard_run(db, config, runs[1]).ok
    with db.session() as session:
        assert session.get(BudgetHold, runs[0]).open is True  # type: ignore[union-attr]


def test_a_resumed_run_counts_its_earlier_cost_once(tmp_path: Path, sqlite_url: str) -> None:
    config, db, runs, estimate = _budget_workspace(tmp_path, sqlite_url, lambda e: 3 * e)
    assert guard_run(db, config, runs[0]).ok
    with db.session() as session:  # interrupted half-way, then claimed again
        session.execute(
            update(Run).where(Run.id == runs[0]).values(status="interrupted", cost_usd=0.5 * estimate)
        )
        session.execute(update(Run).where(Run.id == runs[0]).values(status="running"))
    assert guard_run(db, config, runs[0]).ok
    with db.session() as session:
        session.execute(update(Run).where(Run.id == runs[0]).values(status="done", cost_usd=0.75 * estimate))
    assert guard.settle_reservations(db) == 1
    with db.session() as session:
        day = session.scalars(select(BudgetDay)).one()
        assert (day.reserved_usd, day.spent_usd) == (pytest.approx(0.0), pytest.approx(0.75 * estimate))
