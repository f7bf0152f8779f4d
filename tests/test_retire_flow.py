"""A baseline in its retirement window, end to end: listing date, one event, real runs, one migration mail."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config, load_config
from monitor.pipeline.complete import complete_events
from monitor.pipeline.poll.discovery import poll
from monitor.pipeline.run.work import work_once
from monitor.service.retirements import check_retirements
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Event, OutboxMessage, Run
from tests.daemon_support import SIM_KEY, SIM_KEY_ENV, Workspace

TODAY = dt.date(2026, 12, 1)


def sim_model(model_id: str, created: dt.datetime, skill: float, **extra: object) -> SimModel:
    return SimModel(
        model_id, skill=skill, created=created, latency_ms=0, latency_jitter_ms=0, extra=dict(extra)
    )


@pytest.fixture
def setup(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Config, Database]]:
    sim = make_simulator(
        models=[
            sim_model(
                "gpt-sim-base", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 0.6, expiration_date="2027-01-20"
            ),
            sim_model("gpt-sim-base-2026-09-01", dt.datetime(2026, 9, 1, tzinfo=dt.UTC), 0.95),
            sim_model("gpt-sim-base-2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC), 0.9),
            sim_model("gpt-sim-mini", dt.datetime(2026, 10, 1, tzinfo=dt.UTC), 0.9),
        ]
    )
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    workspace = Workspace(tmp_path, sim.base_url, 2525, suites={"sums": 12})
    yield load_config(workspace.config_path), workspace.db
    workspace.close()


def drain(config: Config, db: Database) -> None:
    async def loop() -> None:
        while await work_once(db, config, worker_id="test-worker") is not None:
            pass

    asyncio.run(loop())


def test_a_baseline_in_its_window_gets_one_migration_report_comparing_its_replacements(
    setup: tuple[Config, Database],
) -> None:
    config, db = setup
    poll(db, config)
    check = check_retirements(db, config, today=TODAY)
    assert len(check.events) == 1 and check.queued_runs == 3
    drain(config, db)
    assert complete_events(db, config) == check.events
    assert check_retirements(db, config, today=TODAY + dt.timedelta(days=1)).events == []
    with db.session() as s:
        [event] = s.scalars(select(Event).where(Event.kind == "retirement"))
        runs = {(r.model_id, r.status) for r in s.scalars(select(Run))}
        mails = [m.subject for m in s.scalars(select(OutboxMessage))]
    assert (event.model_key, event.detail["source"], event.detail["date"]) == (
        "sim:gpt-sim-base",
        "provider",
        "2027-01-20",
    )
    assert event.detail["candidates"] == ["sim:gpt-sim-base-2026-11-01", "sim:gpt-sim-base-2026-09-01"]
    assert runs == {
        ("gpt-sim-base", "done"),
        ("gpt-sim-base-2026-09-01", "done"),
        ("gpt-sim-base-2026-11-01", "done"),
    }
    recommendation = event.detail["recommendation"]
    assert [c["model"] for c in recommendation["candidates"]] == event.detail["candidates"]
    assert all(c["compared"] == 1 for c in recommendation["candidates"])
    assert mails == [
        f"[model-monitor] retiring sim:gpt-sim-base on 2027-01-20: try {recommendation['model']}"
    ]
