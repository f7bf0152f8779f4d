"""A worker evaluates several queued runs at once, and together they keep the provider account's limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import load_config
from monitor.evals.loader import load_suites
from monitor.pipeline.queue import enqueue_runs
from monitor.pipeline.run.totals import RunSummary
from monitor.pipeline.run.work import work_slots
from monitor.simulator import SimModel, Simulator
from monitor.store.db import open_database
from monitor.store.tables import Run
from tests.runner_helpers import KEY_ENV, write_workspace

MODELS = [
    SimModel("gpt-sim-a", "openai", latency_ms=30, latency_jitter_ms=0),
    SimModel("gpt-sim-b", "openai", latency_ms=30, latency_jitter_ms=0),
]


def queue_and_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, slots: int) -> tuple[list[Run], dict]:
    """Queue one run per model and let `slots` slots evaluate them; the runs and the simulator's stats."""
    with Simulator(models=MODELS, api_key="sim-key").running() as sim:
        monkeypatch.setenv(KEY_ENV, "sim-key")
        config = load_config(
            write_workspace(tmp_path, sim.base_url, samples=24, provider="max_concurrency = 3\n")
        )
        db = open_database(config.database_url)
        specs = load_suites(config.suites_dir, ["tiny"])
        with db.session() as session:
            for model in ("gpt-sim-a", "gpt-sim-b"):
                enqueue_runs(session, config, provider="sim", model_id=model, trigger="manual", suites=specs)
            session.commit()
        done: list[int] = []

        async def finished(summary: RunSummary) -> None:
            done.append(summary.run_id)

        count = asyncio.run(
            work_slots(db, config, worker_id="w-test", stop=asyncio.Event(), slots=slots, finished=finished)
        )
        stats = sim.stats()
    with db.session() as session:
        runs = list(session.scalars(select(Run).order_by(Run.id)))
    db.dispose()
    assert count == 2 and sorted(done) == [r.id for r in runs]
    return runs, stats


def test_two_slots_evaluate_two_queued_runs_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = queue_and_work(tmp_path, monkeypatch, slots=2)[0]
    assert {first.status, second.status} == {"done"}
    assert second.started_at < first.finished_at and first.started_at < second.finished_at


def test_one_slot_evaluates_them_one_after_the_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = queue_and_work(tmp_path, monkeypatch, slots=1)[0]
    assert second.started_at >= first.finished_at


def test_runs_at_once_share_the_accounts_concurrency_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, stats = queue_and_work(tmp_path, monkeypatch, slots=2)
    assert stats["peak_concurrency"] <= 3
    assert stats["requests"] >= 48
