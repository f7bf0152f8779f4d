"""Batch mode on OpenAI's Batch API, against the simulator with the real SDK: a scheduled run submits one
batch, waits without holding a claim, and stores answers equal to the sync ones at half the cost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.pipeline.queue import claim_next_run
from monitor.service.daemon import release_dead_local_runs
from monitor.simulator import SimModel, Simulator
from monitor.simulator.faults import Fault
from monitor.store.tables import utcnow
from tests.batch_helpers import (
    MODELS,
    batch_key,  # noqa: F401 (autouse: the simulator's key in the environment)
    batch_rows,
    batches_sent,
    comparable,
    crash_after_submitting,
    crash_before_submitting,
    open_all,
    open_workspace,
    poll,
    poll_then_work,
    results,
    scheduled_run,
    submitted_run,
    sync_run,
    total_cost,
    work,
    write_workspace,
)
from tests.fake_clock import FakeClock
from tests.runner_helpers import run_row

SAMPLES = 12
MODEL = MODELS["openai"]
TAG = "mmdeadbeef00"


def test_a_scheduled_run_submits_one_batch_and_waits_without_a_claim(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = scheduled_run(db, config, spec, MODEL)
    summary = work(db, config)
    assert summary is not None and summary.status == "waiting"
    run = run_row(db, run_id)
    assert run.status == "waiting" and run.claimed_by is None and run.heartbeat_at is None
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.remote_id and row.submitted_at is not None
    assert len(row.custom_ids) == SAMPLES and row.provider == "p"
    assert batches_sent(simulator) == 1
    assert results(db, run_id) == {}


def test_a_finished_batch_is_stored_like_the_sync_answers(tmp_path: Path, simulator: Simulator) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, MODEL)
    polled = poll(db, config)
    assert polled.requeued == [run_id] and polled.ended == 1
    summary = work(db, config)
    assert summary is not None and summary.status == "done" and summary.done == SAMPLES
    (row,) = batch_rows(db, run_id)
    assert row.status == "collected"
    batched = results(db, run_id)
    assert comparable(batched) == comparable(results(db, sync_run(db, config, spec, MODEL)))
    assert all(r["latency_ms"] is None and r["attempts"] == 1 for r in batched.values())


def test_batched_answers_cost_half_of_sync_ones_and_say_so(tmp_path: Path, simulator: Simulator) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, MODEL)
    poll_then_work(db, config)
    sync_id = sync_run(db, config, spec, MODEL)
    batched, sync = results(db, run_id), results(db, sync_id)
    assert all(r["price_source"] == "config, batch price (50% off)" for r in batched.values())
    assert total_cost(batched) == pytest.approx(0.5 * total_cost(sync))
    assert run_row(db, run_id).cost_usd == pytest.approx(0.5 * (run_row(db, sync_id).cost_usd or 0.0))


def test_the_estimate_of_a_batch_run_is_at_the_batch_price(tmp_path: Path, simulator: Simulator) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES, batch=False)
    sync_id = submitted_run(db, config, spec, MODEL)
    batch_config = write_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = submitted_run(db, batch_config, spec, MODEL)
    full = run_row(db, sync_id).estimated_cost_usd
    assert full is not None and run_row(db, run_id).estimated_cost_usd == pytest.approx(full / 2)


def test_a_waiting_run_is_neither_claimed_nor_released_as_dead(tmp_path: Path, simulator: Simulator) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = scheduled_run(db, config, spec, MODEL)
    work(db, config, worker_id="w1")
    assert release_dead_local_runs(db, "w1") == 0
    assert claim_next_run(db, "w2", stale_after_s=0.0) is None
    assert run_row(db, run_id).status == "waiting"


def test_a_batch_still_running_keeps_its_run_waiting(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    clock = FakeClock(utcnow().timestamp())
    sim = make_simulator(batch_delay_s=3600.0, clock=clock)
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, MODEL)
    polled = poll(db, config)
    assert polled.checked == 1 and polled.requeued == []
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.checked_at is not None
    assert run_row(db, run_id).status == "waiting"


def test_a_restarted_daemon_resumes_the_pending_batch_by_its_id(
    make_simulator: Callable[..., Simulator], tmp_path: Path, any_db_url: str
) -> None:
    clock = FakeClock(utcnow().timestamp())
    sim = make_simulator(batch_delay_s=3600.0, clock=clock)
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES, database_url=any_db_url)
    run_id = scheduled_run(db, config, spec, MODEL)
    work(db, config, worker_id="before-restart")
    db.dispose()  # the daemon dies; a new one opens the database and releases what the old one held
    db, spec = open_all(config)
    assert release_dead_local_runs(db, "after-restart") == 0
    assert poll(db, config).requeued == []
    clock.now += 3601.0
    assert poll(db, config).requeued == [run_id]
    summary = work(db, config, worker_id="after-restart")
    assert summary is not None and summary.status == "done" and summary.done == SAMPLES
    assert batches_sent(sim) == 1
    assert len(results(db, run_id)) == SAMPLES
    assert [row.status for row in batch_rows(db, run_id)] == ["collected"]


def test_a_batch_submitted_before_a_crash_is_found_by_its_tag_not_sent_again(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = scheduled_run(db, config, spec, MODEL)
    crash_after_submitting(db, config, spec, run_id, MODEL, TAG)
    (row,) = batch_rows(db, run_id)
    assert row.status == "preparing" and row.remote_id is None
    summary = work(db, config)
    assert summary is not None and summary.status == "waiting"
    (row,) = batch_rows(db, run_id)
    (remote,) = simulator.state.batches.newest_first("openai")
    assert row.status == "open" and row.remote_id == remote.id
    summary = poll_then_work(db, config)
    assert summary.status == "done" and len(results(db, run_id)) == SAMPLES
    assert batches_sent(simulator) == 1


def test_a_preparing_batch_the_provider_never_got_is_submitted_once(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = scheduled_run(db, config, spec, MODEL)
    crash_before_submitting(db, spec, run_id, TAG)
    work(db, config)
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.remote_id is not None
    assert batches_sent(simulator) == 1


def test_items_the_batch_failed_are_sent_again_sync_at_the_full_price(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(batch_item_failure_rate=0.4, seed=3)
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, MODEL)
    summary = poll_then_work(db, config)
    assert summary.status == "done" and summary.errored == 0
    stored = results(db, run_id)
    sync = [r for r in stored.values() if r["price_source"] == "config"]
    batched = [r for r in stored.values() if r["price_source"] != "config"]
    assert len(stored) == SAMPLES and sync and batched
    assert all(r["latency_ms"] is not None for r in sync)
    assert comparable(stored) == comparable(results(db, sync_run(db, config, spec, MODEL)))


def test_items_a_batch_left_when_it_expired_are_sent_again_sync(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    clock = FakeClock(utcnow().timestamp())
    sim = make_simulator(batch_delay_s=200.0, batch_window_s=100.0, clock=clock)
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, MODEL)
    clock.now += 150.0
    assert poll(db, config).requeued == [run_id]
    summary = work(db, config)
    assert summary is not None and summary.status == "done" and summary.done == SAMPLES
    sources = [r["price_source"] for r in results(db, run_id).values()]
    assert sources.count("config") == SAMPLES // 2
    assert batches_sent(sim) == 1


def test_a_manual_run_on_a_batch_provider_goes_request_by_request(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = sync_run(db, config, spec, MODEL)
    assert batch_rows(db, run_id) == [] and len(results(db, run_id)) == SAMPLES
    assert batches_sent(simulator) == 0


def test_a_suite_that_asks_for_batch_batches_on_a_provider_without_the_flag(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(
        tmp_path, simulator.base_url, samples=SAMPLES, batch=False, suite_batch=True
    )
    run_id = submitted_run(db, config, spec, MODEL)
    assert run_row(db, run_id).status == "waiting" and len(batch_rows(db, run_id)) == 1


@pytest.mark.parametrize("provider_type", ["gemini", "openai-compatible"])
def test_a_provider_without_a_batch_api_runs_sync_with_a_note(
    tmp_path: Path, simulator: Simulator, provider_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    config, db, spec = open_workspace(
        tmp_path, simulator.base_url, samples=SAMPLES, provider_type=provider_type
    )
    model = MODELS["gemini" if provider_type == "gemini" else "openai"]
    run_id = scheduled_run(db, config, spec, model)
    with caplog.at_level(logging.WARNING, logger="monitor.pipeline.run.batch"):
        summary = work(db, config)
    assert summary is not None and summary.status == "done" and batch_rows(db, run_id) == []
    assert (
        f"run {run_id}: batch mode asked, but provider 'p' ({provider_type}) has no batch API" in caplog.text
    )


def test_a_submission_that_fails_for_a_while_is_looked_up_then_sent_once(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(faults=[Fault(kind="server_error", endpoint="batch", count=2)])
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, MODEL)
    (row,) = batch_rows(db, run_id)
    assert row.status == "preparing" and "submission failed" in (row.last_error or "")
    assert run_row(db, run_id).status == "waiting" and batches_sent(sim) == 0
    assert poll(db, config).requeued == [run_id]
    work(db, config)
    (row,) = batch_rows(db, run_id)
    assert row.status == "open" and row.remote_id is not None
    assert batches_sent(sim) == 1


def test_a_batch_the_provider_refuses_sends_its_samples_the_normal_way(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(faults=[Fault(kind="spend_limit", endpoint="batch", count=1)])
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES)
    run_id = scheduled_run(db, config, spec, MODEL)
    summary = work(db, config)
    assert summary is not None and summary.status == "done" and summary.done == SAMPLES
    (row,) = batch_rows(db, run_id)
    assert row.status == "failed" and "submission refused" in (row.last_error or "")
    assert {r["price_source"] for r in results(db, run_id).values()} == {"config"}


def test_a_responses_only_model_is_batched_on_the_responses_endpoint(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    model = "gpt-sim-pro"
    sim = make_simulator(models=[SimModel(model, responses_only=True, latency_ms=2, latency_jitter_ms=0)])
    config, db, spec = open_workspace(tmp_path, sim.base_url, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, model)
    (remote,) = sim.state.batches.newest_first("openai")
    assert remote.info["endpoint"] == "/v1/responses"
    summary = poll_then_work(db, config)
    assert summary.status == "done" and summary.done == SAMPLES
    assert comparable(results(db, run_id)) == comparable(results(db, sync_run(db, config, spec, model)))
