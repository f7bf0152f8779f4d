"""Batch mode in the daemon: its work tick polls the open batches and collects the runs whose batches
ended; a waiting run holds no `concurrent_runs` slot, and its event waits for it to be reported."""

from __future__ import annotations

from pathlib import Path

from monitor.pipeline.complete import pending_event_ids
from monitor.pipeline.queue import enqueue_runs
from monitor.service.jobs import Runtime, _work
from monitor.simulator import Simulator
from tests.batch_helpers import (
    MODELS,
    batch_key,  # noqa: F401 (autouse: the simulator's key in the environment)
    batch_rows,
    batches_sent,
    open_workspace,
    results,
    scheduled_run,
)
from tests.runner_helpers import queue_event_run, run_row

SAMPLES = 8
MODEL = MODELS["openai"]
ONE_SLOT = "[schedule]\nconcurrent_runs = 1\n"


def test_the_work_tick_submits_then_polls_and_collects_a_batch_run(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id = scheduled_run(db, config, spec, MODEL)
    runtime = Runtime(config=config, db=db, worker_id="leader")
    _work(runtime)
    assert run_row(db, run_id).status == "waiting"
    _work(runtime)
    run = run_row(db, run_id)
    assert run.status == "done" and run.finished_at is not None
    assert len(results(db, run_id)) == SAMPLES
    assert [row.status for row in batch_rows(db, run_id)] == ["collected"]


def test_a_waiting_run_frees_its_slot_for_the_next_run(tmp_path: Path, simulator: Simulator) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES, extra=ONE_SLOT)
    first = scheduled_run(db, config, spec, MODEL)
    second = scheduled_run(db, config, spec, "gpt-sim-mini")
    _work(Runtime(config=config, db=db, worker_id="leader"))
    assert (run_row(db, first).status, run_row(db, second).status) == ("waiting", "waiting")
    assert batches_sent(simulator) == 2


def test_an_event_waits_to_be_reported_while_its_run_waits_on_a_batch(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES)
    run_id, event_id = queue_event_run(db, config, spec, f"p:{MODEL}")
    runtime = Runtime(config=config, db=db, worker_id="leader")
    _work(runtime)
    assert run_row(db, run_id).status == "waiting"
    with db.session() as session:
        assert event_id not in pending_event_ids(session)
    _work(runtime)
    assert run_row(db, run_id).status == "done"


def test_a_baseline_waiting_on_its_batch_is_not_queued_again_for_the_next_event(
    tmp_path: Path, simulator: Simulator
) -> None:
    extra = '[baseline]\ndefault = ["p:gpt-sim-mini"]\n'
    config, db, spec = open_workspace(tmp_path, simulator.base_url, samples=SAMPLES, extra=extra)
    with db.session() as session:
        first = enqueue_runs(
            session, config, provider="p", model_id=MODEL, trigger="new_model", suites=[spec]
        )
    assert [run.trigger for run in first] == ["new_model", "baseline"]
    _work(Runtime(config=config, db=db, worker_id="leader"))
    assert run_row(db, first[1].id).status == "waiting"
    with db.session() as session:
        second = enqueue_runs(
            session, config, provider="p", model_id="o9-sim", trigger="new_model", suites=[spec]
        )
        assert [run.trigger for run in second] == ["new_model"]
