"""Batch mode on Anthropic's Message Batches, against the simulator with the real SDK: answers equal the
sync ones at half the cost; a batch a crash left without its id is found by its custom ids once it
ends (never sent twice); errored and expired requests are sent again sync."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.core.config import Config
from monitor.evals.loader import SuiteSpec
from monitor.simulator import Simulator
from monitor.store.db import Database
from monitor.store.tables import utcnow
from tests.batch_helpers import (
    MODELS,
    batch_key,  # noqa: F401 (autouse: the simulator's key in the environment)
    batch_rows,
    batches_sent,
    comparable,
    crash_after_submitting,
    crash_before_submitting,
    open_workspace,
    poll,
    poll_then_work,
    results,
    scheduled_run,
    submitted_run,
    sync_run,
    total_cost,
    work,
)
from tests.fake_clock import FakeClock
from tests.runner_helpers import run_row

SAMPLES = 10
MODEL = MODELS["anthropic"]
TAG = "mmfeedface00"


def _workspace(root: Path, sim: Simulator) -> tuple[Config, Database, SuiteSpec]:
    """The batch workspace with provider `p` on the simulator's Anthropic API."""
    return open_workspace(root, sim.base_url, provider_type="anthropic", samples=SAMPLES)


def _batches(sim: Simulator) -> int:
    return batches_sent(sim, "anthropic")


def test_a_message_batch_is_stored_like_the_sync_answers_at_half_the_cost(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = _workspace(tmp_path, simulator)
    run_id = scheduled_run(db, config, spec, MODEL)
    assert work(db, config) is not None and run_row(db, run_id).status == "waiting"
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.remote_id is not None and row.remote_id.startswith("msgbatch_")
    assert poll(db, config).requeued == [run_id]
    summary = work(db, config)
    assert summary is not None and summary.status == "done" and summary.done == SAMPLES
    batched, sync = results(db, run_id), results(db, sync_run(db, config, spec, MODEL))
    assert comparable(batched) == comparable(sync)
    assert total_cost(batched) == pytest.approx(0.5 * total_cost(sync))
    assert _batches(simulator) == 1


def test_a_message_batch_a_crash_left_without_its_id_is_found_by_its_custom_ids(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = _workspace(tmp_path, simulator)
    run_id = scheduled_run(db, config, spec, MODEL)
    crash_after_submitting(db, config, spec, run_id, MODEL, TAG)
    summary = work(db, config)
    assert summary is not None and summary.status == "waiting"
    (row,) = batch_rows(db, run_id)
    assert row.remote_id == simulator.state.batches.newest_first("anthropic")[0].id
    summary = poll_then_work(db, config)
    assert summary.status == "done" and len(results(db, run_id)) == SAMPLES
    assert _batches(simulator) == 1


def test_a_message_batch_that_may_be_ours_but_is_still_running_is_waited_for_not_resent(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    clock = FakeClock(utcnow().timestamp())
    sim = make_simulator(batch_delay_s=600.0, clock=clock)
    config, db, spec = _workspace(tmp_path, sim)
    run_id = scheduled_run(db, config, spec, MODEL)
    crash_after_submitting(db, config, spec, run_id, MODEL, TAG)
    work(db, config)
    (row,) = batch_rows(db, run_id)
    assert row.status == "preparing" and row.remote_id is None and "still running" in (row.last_error or "")
    assert run_row(db, run_id).status == "waiting" and _batches(sim) == 1
    clock.now += 601.0
    assert poll(db, config).requeued == [run_id]
    work(db, config)
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.remote_id == sim.state.batches.newest_first("anthropic")[0].id
    assert _batches(sim) == 1


def test_a_message_batch_the_provider_never_got_is_submitted_once(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = _workspace(tmp_path, simulator)
    run_id = scheduled_run(db, config, spec, MODEL)
    crash_before_submitting(db, spec, run_id, TAG)
    work(db, config)
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.remote_id is not None and _batches(simulator) == 1


def test_errored_and_expired_requests_are_sent_again_sync(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    clock = FakeClock(utcnow().timestamp())
    sim = make_simulator(batch_delay_s=200.0, batch_window_s=100.0, batch_item_failure_rate=0.3, clock=clock)
    config, db, spec = _workspace(tmp_path, sim)
    run_id = submitted_run(db, config, spec, MODEL)
    clock.now += 150.0
    summary = poll_then_work(db, config)
    assert summary.status == "done" and summary.errored == 0
    stored = results(db, run_id)
    sync = [r for r in stored.values() if r["price_source"] == "config"]
    assert len(stored) == SAMPLES and len(sync) > SAMPLES // 2
    assert comparable(stored) == comparable(results(db, sync_run(db, config, spec, MODEL)))
