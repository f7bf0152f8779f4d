"""Never two leaders: stepping down before expiry, the database's clock, fencing, one open drift check."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

import monitor.pipeline.complete as complete
import monitor.store.tables as tables
from monitor.core.config import Config, load_config
from monitor.pipeline.complete import start_drift_check
from monitor.service.daemon import Daemon, DaemonOptions
from monitor.service.jobs import Runtime, drift_job, serving
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database, make_engine, upgrade
from monitor.store.lease import LeaderLease, LeaseLost
from monitor.store.tables import Event, Run, utcnow
from tests.daemon_support import SIM_KEY, SIM_KEY_ENV, WAIT_S, Workspace, wait_for
from tests.fixtures.smtp import SmtpServer

TTL_S = 10.0


class Clocks:
    """One hand-moved time, read both as the database's clock and as the daemon's monotonic clock."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.start = utcnow()

    def monotonic(self) -> float:
        return self.elapsed

    def database(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)


class HandShutdown:
    """A shutdown event whose `wait` moves the hand clock instead of sleeping, then runs `on_tick`."""

    def __init__(self, clocks: Clocks, on_tick: Callable[[], None], *, until_s: float) -> None:
        self.clocks = clocks
        self.on_tick = on_tick
        self.until_s = until_s

    def wait(self, timeout: float | None = None) -> bool:
        self.clocks.elapsed += timeout or 0.0
        self.on_tick()
        return self.clocks.elapsed >= self.until_s  # "shut down" at the end: the loop always ends

    def is_set(self) -> bool:
        return self.clocks.elapsed >= self.until_s


@pytest.fixture
def workspace(tmp_path: Path, any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A config and migrated database (no simulator is called: nothing here runs an evaluation)."""
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    made = Workspace(tmp_path, "http://127.0.0.1:9", 9, database_url=any_db_url)
    yield made
    made.close()


@pytest.fixture
def config(workspace: Workspace) -> Config:
    return load_config(workspace.config_path)


def unreachable() -> bool:
    raise OperationalError("UPDATE leases", {}, ConnectionError("database unreachable"))


def leader_daemon(config: Config, db: Database, clocks: Clocks) -> Daemon:
    """A daemon that holds the lease on the hand clock."""
    daemon = Daemon(config, db, DaemonOptions("leader", lease_ttl_s=TTL_S))
    daemon.lease = LeaderLease(db, "leader", ttl_s=TTL_S, clock=clocks.database)
    daemon.monotonic = clocks.monotonic
    assert daemon.lease.try_acquire()
    return daemon


def test_a_leader_that_cannot_renew_stops_leading_before_a_standby_can_take_over(
    workspace: Workspace, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    clocks = Clocks()
    daemon = leader_daemon(config, workspace.db, clocks)
    monkeypatch.setattr(daemon.lease, "renew", unreachable)
    standby = LeaderLease(workspace.db, "standby", ttl_s=TTL_S, clock=clocks.database)
    overlap: list[float] = []

    def standby_tries() -> None:  # runs while the leader still leads
        if standby.try_acquire():
            overlap.append(clocks.elapsed)

    daemon.shutdown = HandShutdown(clocks, standby_tries, until_s=3 * TTL_S)  # type: ignore[assignment]
    try:
        assert daemon._hold_lease() is True, "the leader stepped down"
    finally:
        daemon.lease_db.dispose()
    assert overlap == [], f"a standby took the lease while the leader still led (at {overlap} s)"
    assert clocks.elapsed <= TTL_S / 2 + daemon.options.heartbeat_s
    clocks.elapsed = TTL_S
    assert standby.try_acquire(), "the standby takes over at expiry"


def test_a_renewal_that_hangs_counts_as_failed(workspace: Workspace, config: Config) -> None:
    clocks = Clocks()
    daemon = leader_daemon(config, workspace.db, clocks)
    released = threading.Event()

    def hangs() -> bool:
        released.wait(WAIT_S)
        return True

    daemon.lease.renew = hangs  # type: ignore[method-assign]
    daemon.options = DaemonOptions("leader", lease_ttl_s=0.4)  # deadlines of a fraction of a second
    daemon.shutdown = HandShutdown(clocks, lambda: None, until_s=1000)  # type: ignore[assignment]
    outcome: list[bool] = []
    holder = threading.Thread(target=lambda: outcome.append(daemon._hold_lease()), daemon=True)
    holder.start()
    holder.join(30)
    released.set()
    daemon.lease_db.dispose()
    assert outcome == [True], "a leader whose renewal hangs steps down"


def test_no_database_call_can_hang_for_ever(workspace: Workspace, config: Config, any_db_url: str) -> None:
    daemon = Daemon(config, workspace.db, DaemonOptions("leader", lease_ttl_s=TTL_S))
    try:
        with workspace.db.engine.connect() as jobs, daemon.lease_db.engine.connect() as lease:
            if any_db_url.startswith("postgresql"):
                assert jobs.scalar(text("SHOW statement_timeout")) == "5min"
                assert lease.scalar(text("SHOW statement_timeout")) == "2500ms"
                assert jobs.connection.dbapi_connection.info.get_parameters()["connect_timeout"] == "10"
                assert lease.connection.dbapi_connection.info.get_parameters()["connect_timeout"] == "2"
            else:
                assert jobs.scalar(text("PRAGMA busy_timeout")) == 30_000
                assert lease.scalar(text("PRAGMA busy_timeout")) == 2_500
    finally:
        daemon.lease_db.dispose()


class SkewedDatetime(datetime):
    """`datetime` whose `now` is this host's wrong clock."""

    skew = timedelta(0)

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return datetime.now(tz) + cls.skew


@pytest.mark.parametrize(
    ("leader_skew", "standby_skew"),
    [(timedelta(hours=-1), timedelta(0)), (timedelta(0), timedelta(hours=1))],
    ids=["leader-clock-behind", "standby-clock-ahead"],
)
def test_a_host_clock_skew_does_not_hand_a_live_lease_to_a_standby(
    any_db: Database, monkeypatch: pytest.MonkeyPatch, leader_skew: timedelta, standby_skew: timedelta
) -> None:
    monkeypatch.setattr(tables, "datetime", SkewedDatetime)
    SkewedDatetime.skew = leader_skew
    leader = LeaderLease(any_db, "leader", ttl_s=30)
    assert leader.try_acquire()
    SkewedDatetime.skew = standby_skew
    assert not LeaderLease(any_db, "standby", ttl_s=30).try_acquire()
    SkewedDatetime.skew = leader_skew
    assert leader.renew()
    state = leader.state()
    assert state is not None and state.holder == "leader"


def test_a_deposed_leaders_late_job_writes_nothing(
    workspace: Workspace, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    clocks = Clocks()
    old = LeaderLease(workspace.db, "old", ttl_s=TTL_S, clock=clocks.database)
    assert old.try_acquire()
    runtime = Runtime(config, workspace.db, "old")
    runtime.fence = old.fence()
    clocks.elapsed = TTL_S + 1  # the old leader froze; its lease expired and a standby took over
    assert LeaderLease(workspace.db, "new", ttl_s=TTL_S, clock=clocks.database).try_acquire()

    with serving(runtime):
        drift_job()  # the old leader's scheduler wakes up and fires its due drift job

    assert workspace.events("drift") == []
    assert workspace.runs() == []
    assert "no longer leads" in caplog.text


def test_a_lease_lost_during_a_drift_check_rolls_its_writes_back(
    workspace: Workspace, config: Config
) -> None:
    clocks = Clocks()
    lease = LeaderLease(workspace.db, "leader", ttl_s=TTL_S, clock=clocks.database)
    assert lease.try_acquire()
    first_term = lease.fence()
    assert lease.try_acquire(), "the same process leads again: a new generation"
    with pytest.raises(LeaseLost):
        start_drift_check(workspace.db, config, fence=first_term)
    assert workspace.events("drift") == [] and workspace.runs() == []
    assert start_drift_check(workspace.db, config, fence=lease.fence()) != []


def test_two_racing_drift_checks_open_one_event(
    workspace: Workspace, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_checked = threading.Barrier(2, timeout=WAIT_S)
    real_check = complete._drift_open

    def check_then_wait(*args: str) -> bool:  # both leaders see "no open check" before either inserts
        found = real_check(*args)  # type: ignore[arg-type]
        both_checked.wait()
        return found

    monkeypatch.setattr(complete, "_drift_open", check_then_wait)
    opened: list[list[int]] = []
    leaders = [
        threading.Thread(target=lambda: opened.append(start_drift_check(workspace.db, config)))
        for _ in range(2)
    ]
    for thread in leaders:
        thread.start()
    for thread in leaders:
        thread.join(WAIT_S)

    events = workspace.events("drift")
    assert len(events) == 1, [e.id for e in events]
    assert sorted(map(len, opened)) == [0, 1]
    with workspace.session() as s:
        event_ids = set(s.scalars(select(Run.event_id)))
    assert event_ids == {events[0].id}


def test_the_migration_closes_duplicate_open_drift_checks_left_by_an_earlier_race(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        for _ in range(2):
            conn.execute(
                text(
                    "INSERT INTO events (kind, provider, model_id, created_at, detail) "
                    "VALUES ('drift', 'sim', 'gpt-sim-base', :now, '{}')"
                ),
                {"now": utcnow().replace(tzinfo=None)},
            )
    upgrade(engine)
    with engine.connect() as conn:
        still_open = conn.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "drift", Event.reported_at.is_(None))
        )
    engine.dispose()
    assert still_open == 1


# ---- two real daemons, the leader frozen with SIGSTOP -------------------------------------------

LEASE_S = 3.0
HIDDEN = 10**6


def led(log: str) -> int:
    return log.count("leader: this daemon runs the schedule")


@pytest.mark.slow
def test_a_leader_frozen_for_two_lease_periods_steps_down_and_every_event_is_reported_and_mailed_once(
    tmp_path: Path, make_simulator: Callable[..., Simulator], smtp_server: SmtpServer, any_db_url: str
) -> None:
    sim = make_simulator(
        models=[
            SimModel("gpt-sim-base", skill=0.6, latency_ms=2, latency_jitter_ms=0),
            SimModel(
                "gpt-sim-next", skill=0.9, latency_ms=2, latency_jitter_ms=0, release_after_polls=HIDDEN
            ),
            SimModel(
                "gpt-sim-later", skill=0.8, latency_ms=2, latency_jitter_ms=0, release_after_polls=HIDDEN
            ),
        ]
    )
    workspace = Workspace(tmp_path, sim.base_url, smtp_server.port, database_url=any_db_url)
    try:
        first = workspace.start_daemon("first", lease_ttl=LEASE_S, grace=10)
        wait_for(lambda: workspace.lease_holder() == first.worker_id, "the first daemon to lead")
        second = workspace.start_daemon("second", lease_ttl=LEASE_S, grace=10)
        wait_for(lambda: "standby:" in second.log(), "the second daemon to stand by")
        wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
        sim.release("gpt-sim-next")
        wait_for(lambda: len(smtp_server.messages) == 1, "the first event's e-mail")

        os.kill(first.process.pid, signal.SIGSTOP)
        try:
            wait_for(lambda: workspace.lease_holder() == second.worker_id, "the standby to take over")
            time.sleep(LEASE_S)  # frozen for two lease periods in all
            sim.release("gpt-sim-later")  # due work for both when the frozen leader wakes up
        finally:
            os.kill(first.process.pid, signal.SIGCONT)

        wait_for(lambda: "lost the leader lease" in first.log(), "the woken leader to step down")
        wait_for(lambda: len(smtp_server.messages) >= 2, "the second event's e-mail")
        polls_then = workspace.polls()
        wait_for(lambda: workspace.polls() >= polls_then + 3, "three more polls")

        assert workspace.lease_holder() == second.worker_id, "the standby leads"
        assert led(first.log()) == 1, "the woken leader did not lead again"
        assert "standby:" in first.log().rpartition("lost the leader lease")[2]
        assert first.alive() and second.alive()
        events = workspace.events("new_model")
        assert sorted(e.model_id for e in events) == ["gpt-sim-later", "gpt-sim-next"]
        assert all(e.reported_at is not None for e in events)
        assert len(list((workspace.root / "reports" / "events").glob("*.html"))) == len(events)
        assert len(workspace.outbox()) == len(events)
        subjects = sorted(str(m.parsed()["Subject"]) for m in smtp_server.messages)
        assert len(subjects) == 2
        assert any("gpt-sim-next" in s for s in subjects) and any("gpt-sim-later" in s for s in subjects)
        assert workspace.duplicate_results() == 0
        assert first.terminate() == 0 and second.terminate() == 0
    finally:
        workspace.close()
