"""Drift through the real runner and simulator: a changed fingerprint or a score drop alerts once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config, load_config
from monitor.pipeline.complete import complete_events, start_drift_check
from monitor.pipeline.run.work import work_once
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Event, OutboxMessage
from tests.daemon_support import SIM_KEY, SIM_KEY_ENV, Workspace


@pytest.fixture
def drift_setup(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Config, Database, SimModel]]:
    model = SimModel("gpt-sim-base", skill=0.95, latency_ms=0, latency_jitter_ms=0, system_fingerprint="fp_a")
    sim = make_simulator(models=[model])
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    workspace = Workspace(tmp_path, sim.base_url, 2525, suites={"sums": 40})
    config = load_config(workspace.config_path)
    yield config, workspace.db, sim.models[0]
    workspace.close()


def drift_round(config: Config, db: Database) -> list[int]:
    """One drift check: queue, evaluate everything queued, complete the events."""
    assert start_drift_check(db, config)

    async def drain() -> None:
        while await work_once(db, config, worker_id="test-worker") is not None:
            pass

    asyncio.run(drain())
    return complete_events(db, config)


def drift_events(db: Database) -> list[tuple[str, list[str]]]:
    with db.session() as s:
        events = s.scalars(select(Event).where(Event.kind == "drift").order_by(Event.id))
        return [(e.detail["status"], list(e.detail["findings"])) for e in events]


def mails(db: Database) -> list[str]:
    with db.session() as s:
        return [m.subject for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_an_unchanged_model_is_checked_without_an_alert(
    drift_setup: tuple[Config, Database, SimModel],
) -> None:
    config, db, _model = drift_setup
    drift_round(config, db)
    drift_round(config, db)
    assert drift_events(db) == [("unchanged", []), ("unchanged", [])]
    assert mails(db) == []


def test_a_new_system_fingerprint_behind_the_alias_sends_one_alert(
    drift_setup: tuple[Config, Database, SimModel],
) -> None:
    config, db, model = drift_setup
    drift_round(config, db)
    model.system_fingerprint = "fp_b"
    drift_round(config, db)
    assert drift_events(db)[-1] == ("changed", ["system_fingerprint fp_a -> fp_b"])
    assert len(mails(db)) == 1 and "drift" in mails(db)[0]


def test_a_quietly_worse_model_behind_the_alias_sends_one_alert(
    drift_setup: tuple[Config, Database, SimModel],
) -> None:
    config, db, model = drift_setup
    drift_round(config, db)
    model.skill = 0.3
    drift_round(config, db)
    status, findings = drift_events(db)[-1]
    assert status == "changed"
    assert len(findings) == 1 and findings[0].startswith("sums: worse by -")
    assert len(mails(db)) == 1
