"""`model-monitor status`: leader, heartbeat, jobs, queue, mail and polls; exit status 1 when unhealthy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import Config
from monitor.service.schedule import build_scheduler, install_jobs
from monitor.store.db import Database, open_database
from monitor.store.lease import LeaderLease
from monitor.store.tables import OutboxMessage, ProviderPoll, utcnow
from tests.factories import add_run, add_suite, make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    db = open_database(config.database_url)
    yield db
    db.dispose()


def status(config: Config, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config.path), "status", *args])
    return result.exit_code, result.output


def test_without_a_daemon_status_exits_1_and_says_why(config: Config, database: Database) -> None:
    code, output = status(config)
    assert code == 1
    assert "no daemon holds the leader lease" in output
    assert "none scheduled yet" in output


def test_with_a_live_leader_status_exits_0_and_names_it(config: Config, database: Database) -> None:
    assert LeaderLease(database, "host-a:123:abc", ttl_s=30).try_acquire()
    code, output = status(config)
    assert code == 0, output
    assert "host-a:123:abc" in output and "healthy" in output


def test_a_stale_heartbeat_makes_status_exit_1(config: Config, database: Database) -> None:
    five_minutes_ago = utcnow() - timedelta(minutes=5)
    assert LeaderLease(database, "host-a:123:abc", ttl_s=30, clock=lambda: five_minutes_ago).try_acquire()
    code, output = status(config)
    assert code == 1
    assert "stale" in output and "host-a:123:abc" in output


def test_status_json_reports_jobs_queue_mail_and_last_polls(config: Config, database: Database) -> None:
    assert LeaderLease(database, "leader-1", ttl_s=30).try_acquire()
    scheduler = build_scheduler(config)
    scheduler.start(paused=True)
    install_jobs(scheduler, config)
    scheduler.shutdown(wait=False)
    with database.session() as s:
        suite = add_suite(s, size=2)
        add_run(s, suite, "sim:new", [True, True], status="queued")
        add_run(s, suite, "sim:new", [True], status="running")
        add_run(s, suite, "sim:other", [], status="waiting")  # its samples are with a batch API
        s.add(ProviderPoll(provider="sim", ok=False, error="auth: the key was refused", listed=0))
        s.add(
            OutboxMessage(
                dedupe_key="k", subject="s", sender="a@example.com", recipients=[], message="m", attempts=2
            )
        )

    code, output = status(config, "--json")

    assert code == 0, output
    data = json.loads(output)
    assert data["healthy"] is True and data["leader"]["holder"] == "leader-1"
    assert data["leader"]["heartbeat_age_s"] >= 0
    assert sorted(job["id"] for job in data["jobs"]) == ["drift", "outbox", "poll", "work"]
    assert all(job["next_run_at"] for job in data["jobs"])
    assert data["runs"] == {"queued": 1, "running": 1, "waiting": 1, "interrupted": 0}
    assert (data["mail_pending"], data["mail_failing"]) == (1, 1)
    assert [(p["provider"], p["ok"], p["error"]) for p in data["polls"]] == [
        ("sim", False, "auth: the key was refused")
    ]
