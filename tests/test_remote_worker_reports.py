"""Only the leader writes report files: a worker (maybe on another host) finishing an event writes none."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.core.config import Config, ReportsConfig, load_config
from monitor.pipeline.queue import enqueue_runs, plan_new_model_runs
from monitor.pipeline.run import work
from monitor.pipeline.run.totals import RunSummary
from monitor.service import jobs
from monitor.service.jobs import Runtime, serving
from monitor.service.worker import work_loop
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Event, OutboxMessage, Report, Run
from tests.daemon_support import SIM_KEY, SIM_KEY_ENV, Workspace


@pytest.fixture
def workspace(
    tmp_path: Path, any_db_url: str, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    models = [
        SimModel("gpt-sim-base", skill=0.6, latency_ms=0, latency_jitter_ms=0),
        SimModel("gpt-sim-next", skill=0.9, latency_ms=0, latency_jitter_ms=0),
    ]
    sim = make_simulator(models=models)
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    root = tmp_path / "daemon-host"
    root.mkdir()
    space = Workspace(root, sim.base_url, 2525, suites={"sums": 3, "more-sums": 3}, database_url=any_db_url)
    yield space
    space.close()


def _new_model_event(db: Database, config: Config) -> int:
    """A new-model event as the poll records it, planned into its runs (candidate and baseline)."""
    with db.session() as session:
        event = Event(kind="new_model", provider="sim", model_id="gpt-sim-next", detail={})
        session.add(event)
        session.flush()
        event_id = event.id
    assert plan_new_model_runs(db, config).queued_runs == 4
    return event_id


def _run_worker_until_idle(db: Database, config: Config, monkeypatch: pytest.MonkeyPatch) -> int:
    """The worker loop until it found the queue empty twice (so it went through an idle round)."""
    stop = asyncio.Event()
    empty = 0
    real = work.work_once

    async def counting(*args: Any, **kwargs: Any) -> RunSummary | None:
        nonlocal empty
        summary = await real(*args, **kwargs)
        if summary is None:
            empty += 1
            if empty == 2:
                stop.set()
        return summary

    monkeypatch.setattr(work, "work_once", counting)
    finished = asyncio.run(work_loop(db, config, worker_id="remote-worker", idle_s=0.01, stop=stop))
    monkeypatch.setattr(work, "work_once", real)
    return finished


def _counts(db: Database, event_id: int) -> tuple[bool, int, int]:
    with db.session() as session:
        event = session.get(Event, event_id)
        assert event is not None
        mails = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        reports = session.scalar(
            select(func.count())
            .select_from(Report)
            .where(Report.event_id == event_id, Report.kind == "event")
        )
        return event.reported_at is not None, int(mails), int(reports or 0)


def test_a_worker_finishing_an_events_last_run_writes_no_report_and_the_leader_writes_it_once(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon_config = load_config(workspace.config_path)
    worker_reports = tmp_path / "worker-host" / "reports"
    worker_config = daemon_config.model_copy(update={"reports": ReportsConfig(directory=str(worker_reports))})
    db = workspace.db
    event_id = _new_model_event(db, daemon_config)

    assert _run_worker_until_idle(db, worker_config, monkeypatch) == 4

    assert {run.status for run in workspace.runs()} == {"done"}
    assert not worker_reports.exists()  # nothing on the worker's disk
    assert _counts(db, event_id) == (False, 0, 0)  # the event waits for the leader

    with serving(Runtime(daemon_config, db, "leader")):
        jobs.work_job()
        assert _counts(db, event_id) == (True, 1, 1)
        jobs.work_job()  # the next tick finds nothing left to report
    assert _counts(db, event_id) == (True, 1, 1)
    assert len(list((daemon_config.reports_dir / "events").glob("*.html"))) == 1
    assert (daemon_config.reports_dir / "index.html").is_file()
    assert not worker_reports.exists()


def test_the_leader_reports_a_workers_event_between_its_own_runs(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(workspace.config_path)
    db = workspace.db
    event_id = _new_model_event(db, config)
    _run_worker_until_idle(db, config, monkeypatch)
    with db.session() as session:
        enqueue_runs(session, config, provider="sim", model_id="gpt-sim-base", trigger="manual")
    reported_at_each_claim: list[bool] = []
    real = work.work_once

    async def watching(*args: Any, **kwargs: Any) -> RunSummary | None:
        reported_at_each_claim.append(_counts(db, event_id)[0])
        return await real(*args, **kwargs)

    monkeypatch.setattr(work, "work_once", watching)
    # One run at a time, so each claim shows what the previous run's end reported.
    one_slot = config.model_copy(
        update={"schedule": config.schedule.model_copy(update={"concurrent_runs": 1})}
    )
    with serving(Runtime(one_slot, db, "leader")):
        jobs.work_job()

    # The event was reported right after the leader's first run, not once its whole queue was done.
    assert reported_at_each_claim == [False, True, True]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Run).where(Run.status != "done")) == 0
