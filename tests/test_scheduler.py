"""The schedule in the job store (kept across restarts, changed with the config), retention, run recovery."""

from __future__ import annotations

import os
import pickle
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import column, select, table, update

from monitor.core.config import Config, load_config
from monitor.core.errors import ConfigError
from monitor.service.daemon import release_dead_local_runs
from monitor.service.retention import prune_outputs
from monitor.service.schedule import build_scheduler, cron_trigger, install_jobs, job_triggers
from monitor.service.status import collect_status
from monitor.store.db import Database, open_database
from monitor.store.tables import Result, Run
from tests.factories import add_run, add_suite, make_config
from tests.holder_helpers import dead_holder

NOW = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, extra="[schedule]\npoll_interval_minutes = 30\n")


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    db = open_database(config.database_url)
    yield db
    db.dispose()


def scheduled(config: Config, now: datetime = NOW) -> dict[str, datetime | None]:
    """Start a scheduler paused (as a daemon does), install the config's jobs, return the next run times."""
    scheduler: BackgroundScheduler = build_scheduler(config)
    scheduler.start(paused=True)
    try:
        install_jobs(scheduler, config, now=now)
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def with_schedule(tmp_path: Path, schedule: str) -> Config:
    path = tmp_path / "monitor.toml"
    body = path.read_text().split("[schedule]")[0]
    path.write_text(body + "[schedule]\n" + schedule)
    return load_config(path)


def test_jobs_are_stored_in_the_project_database(config: Config, database: Database) -> None:
    times = scheduled(config)

    assert sorted(times) == ["drift", "outbox", "poll", "work"]
    assert times["poll"] == times["work"] == times["outbox"] == NOW, "they run as soon as a daemon starts"
    assert times["drift"] == datetime(2026, 11, 30, 6, 0, tzinfo=UTC), "next Monday 06:00 UTC"
    stored = {job.id: job.next_run_at for job in collect_status(database, config).jobs}
    assert stored == times


def test_an_unchanged_schedule_keeps_its_next_run_times_across_restarts(config: Config) -> None:
    first = scheduled(config)
    later = NOW - timedelta(minutes=5)

    second = scheduled(config, now=later)

    assert second == first


def test_a_run_time_missed_while_no_daemon_ran_is_run_once_at_start(config: Config) -> None:
    scheduled(config)
    much_later = NOW + timedelta(days=10)

    times = scheduled(config, now=much_later)

    assert times["drift"] == much_later
    assert times["poll"] == much_later


def store_job_under(database: Database, job_id: str, func_ref: str) -> None:
    """Rewrite a stored job's function reference, as an older version that kept it elsewhere left it."""
    jobs = table("apscheduler_jobs", column("id"), column("job_state"))
    with database.engine.begin() as conn:
        state = pickle.loads(conn.execute(select(jobs.c.job_state).where(jobs.c.id == job_id)).scalar_one())
        state["func"] = func_ref
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(job_state=pickle.dumps(state)))


def test_a_job_stored_under_a_function_path_that_moved_is_replaced(
    tmp_path: Path, config: Config, database: Database
) -> None:
    with_retention = with_schedule(tmp_path, "poll_interval_minutes = 30\nretention_days = 30\n")
    scheduled(with_retention)
    store_job_under(database, "poll", "monitor.service.scheduler:poll_job")
    store_job_under(database, "retention", "monitor.service.scheduler:retention_job")
    later = NOW + timedelta(minutes=1)

    times = scheduled(config, now=later)

    assert sorted(times) == ["drift", "outbox", "poll", "work"], "the moved job that the config dropped goes"
    assert times["poll"] == later, "the moved job is added afresh, so it runs at start"
    assert times["drift"] == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    refs = {job.id: job.func_ref for job in restored_jobs(config)}
    assert refs["poll"] == "monitor.service.jobs:poll_job"


def restored_jobs(config: Config) -> list[Job]:
    """The jobs as a starting scheduler reads them back from the store."""
    scheduler: BackgroundScheduler = build_scheduler(config)
    scheduler.start(paused=True)
    try:
        return list(scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)


def test_a_changed_interval_replaces_the_job_and_a_dropped_job_goes(tmp_path: Path, config: Config) -> None:
    scheduled(with_schedule(tmp_path, "poll_interval_minutes = 30\nretention_days = 30\n"))
    changed = with_schedule(tmp_path, 'poll_cron = "15 * * * *"\n')

    times = scheduled(changed, now=NOW + timedelta(minutes=1))

    assert "retention" not in times
    assert times["poll"] == NOW + timedelta(minutes=1)
    assert "cron" in str(job_triggers(changed.schedule)["poll"])


def test_retention_job_is_scheduled_only_when_configured(tmp_path: Path, config: Config) -> None:
    assert "retention" not in job_triggers(config.schedule)
    with_retention = with_schedule(tmp_path, "retention_days = 30\n")
    assert "retention" in job_triggers(with_retention.schedule)


def test_a_bad_cron_expression_is_a_config_error(tmp_path: Path, config: Config) -> None:
    with pytest.raises(ConfigError, match="drift_cron"):
        job_triggers(with_schedule(tmp_path, 'drift_cron = "every monday"\n').schedule)


def test_retention_blanks_old_outputs_and_keeps_scores(database: Database) -> None:
    with database.session() as s:
        suite = add_suite(s, size=4)
        old = add_run(s, suite, "sim:base", [True, False, True, True])
        new = add_run(s, suite, "sim:new", [True, True, False, True])
        for result in s.scalars(select(Result).where(Result.run_id == old.id)):
            result.created_at = datetime.now(UTC) - timedelta(days=40)
        old_id, new_id = old.id, new.id

    assert prune_outputs(database, older_than=timedelta(days=30)) == 4
    assert prune_outputs(database, older_than=timedelta(days=30)) == 0

    with database.session() as s:
        old_rows = list(s.scalars(select(Result).where(Result.run_id == old_id)))
        new_rows = list(s.scalars(select(Result).where(Result.run_id == new_id)))
    assert [r.output for r in old_rows] == [None] * 4
    assert [r.score for r in old_rows] == [1.0, 0.0, 1.0, 1.0]
    assert all(r.output for r in new_rows)


def test_runs_of_a_dead_local_worker_become_resumable_at_start(database: Database) -> None:
    host = socket.gethostname()
    holders = {
        "dead": dead_holder(database, f"{host}:99999:abc"),
        "alive": f"{host}:{os.getpid()}:abc",
        "remote": "elsewhere:1:abc",
        "me": "me-worker",
    }
    ids = {}
    with database.session() as s:
        suite = add_suite(s, size=2)
        for name, holder in holders.items():
            run = add_run(s, suite, "sim:base", [True], status="running", trigger="new_model")
            run.claimed_by = holder
            ids[name] = run.id

    assert release_dead_local_runs(database, "me-worker") == 2

    with database.session() as s:
        status = {name: s.get(Run, run_id).status for name, run_id in ids.items()}  # type: ignore[union-attr]
    assert status == {"dead": "interrupted", "alive": "running", "remote": "running", "me": "interrupted"}


def test_the_shipped_production_config_has_a_valid_schedule() -> None:
    config = load_config(Path(__file__).parent.parent / "deploy" / "monitor.toml")
    assert set(job_triggers(config.schedule)) == {"poll", "work", "drift", "outbox", "retention"}
    assert {"openai", "anthropic", "gemini"} <= set(config.providers)


@pytest.mark.parametrize(
    ("expression", "first_run"),
    [
        ("0 6 * * 1", datetime(2026, 11, 30, 6, 0, tzinfo=UTC)),
        ("0 6 * * 0", datetime(2026, 11, 29, 6, 0, tzinfo=UTC)),
        ("0 6 * * 7", datetime(2026, 11, 29, 6, 0, tzinfo=UTC)),
        ("30 22 * * 1-5", datetime(2026, 11, 25, 22, 30, tzinfo=UTC)),
        ("0 6 * * sat,sun", datetime(2026, 11, 28, 6, 0, tzinfo=UTC)),
        ("0 6 * * */3", datetime(2026, 11, 28, 6, 0, tzinfo=UTC)),
    ],
)
def test_cron_weekdays_keep_their_crontab_meaning(expression: str, first_run: datetime) -> None:
    trigger = cron_trigger(expression)
    assert trigger.get_next_fire_time(None, NOW) == first_run
