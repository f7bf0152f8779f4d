"""A run that stopped early is compared with the baseline run its sequential test read, by the event, by
`compare` and by the gate alike; and the worker claims an event's baseline runs before its other runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core.config import Config
from monitor.evals.loader import SuiteSpec
from monitor.pipeline.compare.events import compare_event, compare_models
from monitor.pipeline.compare.gate import compare_pairs
from monitor.pipeline.compare.pairing import SuiteComparison
from monitor.pipeline.compare.wording import verdict_lines
from monitor.pipeline.queue import claim_next_run, enqueue_runs
from monitor.pipeline.run.work import execute_run, work_once
from monitor.simulator import Simulator
from monitor.simulator.catalog import SimModel
from monitor.stats.verdicts import VERDICT_WORSE
from monitor.store.db import Database
from monitor.store.tables import Run, Suite, utcnow
from tests.factories import add_event
from tests.runner_helpers import (
    KEY_ENV,
    manual_run,
    open_workspace,
    queue_event_run,
    run_row,
    write_workspace,
)

SAMPLES = 200
BASELINE = "gpt-sim-prod"
CANDIDATE = "gpt-sim-new"


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


@pytest.fixture
def baseline_model() -> SimModel:
    """The production model: 90% right on sums (a test lowers it before the newer baseline run)."""
    return SimModel(BASELINE, skill=0.9, latency_ms=1, latency_jitter_ms=0)


@pytest.fixture
def workspace(
    tmp_path: Path, make_simulator: Callable[..., Simulator], baseline_model: SimModel
) -> tuple[Config, Database, SuiteSpec]:
    """A workspace whose `[baseline]` is the production model, and a new model 45% right."""
    simulator = make_simulator(
        models=[baseline_model, SimModel(CANDIDATE, skill=0.45, latency_ms=1, latency_jitter_ms=0)]
    )
    path = write_workspace(
        tmp_path, simulator.base_url, samples=SAMPLES, extra=f'[baseline]\ndefault = ["sim:{BASELINE}"]\n'
    )
    return open_workspace(path)


def _baseline_run(db: Database, config: Config, spec: SuiteSpec) -> int:
    run_id, worker = manual_run(db, config, spec, model_id=BASELINE)
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, spec=spec))
    assert summary.status == "done" and summary.done == SAMPLES
    return run_id


def _new_model_event(db: Database, config: Config, spec: SuiteSpec) -> tuple[int, int, int]:
    """A new model's event, its run and the baseline's queued together; (event, own run, baseline run)."""
    with db.session() as session:
        event = add_event(session, "new_model", f"sim:{CANDIDATE}")
        own, base = enqueue_runs(
            session,
            config,
            provider="sim",
            model_id=CANDIDATE,
            trigger="new_model",
            event_id=event.id,
            suites=[spec],
        )
        assert base.trigger == "baseline" and base.id > own.id
        return event.id, own.id, base.id


def _stopped_against_older(
    workspace: tuple[Config, Database, SuiteSpec], baseline_model: SimModel
) -> tuple[Run, int, int, int]:
    """Baseline run X; a new model's event run stopped against X; then a newer baseline run Y of the same
    suite version (the model as weak as the candidate by then). (stopped run, event id, X, Y)."""
    config, db, spec = workspace
    older = _baseline_run(db, config, spec)
    run_id, event_id = queue_event_run(db, config, spec, f"sim:{CANDIDATE}")
    asyncio.run(work_once(db, config, worker_id="w1"))
    run = run_row(db, run_id)
    assert run.stopped_after is not None and run.sequential is not None
    assert run.sequential["baseline_run_id"] == older
    baseline_model.skill = 0.45
    newer = _baseline_run(db, config, spec)
    return run, event_id, older, newer


def _says_the_stop(comparison: SuiteComparison, run: Run, baseline_id: int) -> None:
    """The comparison pairs the run with `baseline_id` and states the verdict and p the stop recorded."""
    assert comparison.baseline is not None and comparison.baseline.run_id == baseline_id
    paired = comparison.paired
    assert paired is not None and paired.sequential is not None and paired.sequential.stopped
    assert paired.verdict == VERDICT_WORSE
    assert run.stop_reason is not None
    recorded = run.stop_reason.split(" (anytime-valid")[0]
    assert verdict_lines(paired)[1].split(" (anytime-valid")[0] == recorded


def test_an_event_compares_a_stopped_run_with_the_baseline_run_it_stopped_against(
    workspace: tuple[Config, Database, SuiteSpec], baseline_model: SimModel
) -> None:
    config, db, _ = workspace
    run, event_id, older, _ = _stopped_against_older(workspace, baseline_model)
    with db.session() as session:
        comparison = compare_event(session, config, event_id)
    (suite,) = comparison.suites
    _says_the_stop(suite, run, older)
    assert comparison.worse == 1


def test_compare_pairs_a_stopped_run_with_the_baseline_run_it_stopped_against(
    workspace: tuple[Config, Database, SuiteSpec], baseline_model: SimModel
) -> None:
    config, db, _ = workspace
    run, _, older, _ = _stopped_against_older(workspace, baseline_model)
    with db.session() as session:
        comparison = compare_models(session, config, f"sim:{CANDIDATE}", f"sim:{BASELINE}")
    (suite,) = comparison.suites
    _says_the_stop(suite, run, older)


def test_the_gate_pairs_a_stopped_run_with_the_baseline_run_it_stopped_against(
    workspace: tuple[Config, Database, SuiteSpec], baseline_model: SimModel
) -> None:
    config, db, _ = workspace
    run, _, older, newer = _stopped_against_older(workspace, baseline_model)
    with db.session() as session:
        (comparison,) = compare_pairs(
            session, config, f"sim:{BASELINE}", {f"sim:{CANDIDATE}": [(run.id, newer)]}
        )
    (suite,) = comparison.suites
    _says_the_stop(suite, run, older)


def test_a_stopped_run_whose_baseline_run_is_of_another_model_keeps_the_pair_given(
    workspace: tuple[Config, Database, SuiteSpec], baseline_model: SimModel
) -> None:
    config, db, spec = workspace
    run, _, _, _ = _stopped_against_older(workspace, baseline_model)
    own_earlier, worker = manual_run(db, config, spec, model_id=CANDIDATE)
    asyncio.run(execute_run(db, config, own_earlier, worker_id=worker, spec=spec))
    with db.session() as session:
        (comparison,) = compare_pairs(
            session, config, f"sim:{CANDIDATE}", {f"sim:{CANDIDATE}": [(run.id, own_earlier)]}
        )
    (suite,) = comparison.suites
    assert suite.baseline is not None and suite.baseline.run_id == own_earlier


def test_an_event_compares_a_stopped_run_with_the_baseline_model_its_test_read_first(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    fast = {"latency_ms": 1.0, "latency_jitter_ms": 0.0}
    simulator = make_simulator(
        models=[
            SimModel("gpt-sim-first", skill=0.45, **fast),
            SimModel(BASELINE, skill=0.9, **fast),
            SimModel(CANDIDATE, skill=0.45, **fast),
        ]
    )
    path = write_workspace(
        tmp_path,
        simulator.base_url,
        samples=SAMPLES,
        extra=f'[baseline]\ndefault = ["sim:gpt-sim-first", "sim:{BASELINE}"]\n',
    )
    config, db, spec = open_workspace(path)
    # The first baseline's only run repeats each sample twice: the candidate cannot stop against it.
    first, worker = manual_run(db, config, spec, model_id="gpt-sim-first", repeat=2)
    asyncio.run(execute_run(db, config, first, worker_id=worker, spec=spec))
    second = _baseline_run(db, config, spec)
    run_id, event_id = queue_event_run(db, config, spec, f"sim:{CANDIDATE}")
    asyncio.run(work_once(db, config, worker_id="w1"))
    run = run_row(db, run_id)
    assert run.sequential is not None and run.sequential["baseline_run_id"] == second
    with db.session() as session:
        comparison = compare_event(session, config, event_id)
    (suite,) = comparison.suites
    _says_the_stop(suite, run, second)
    assert comparison.baselines == [f"sim:{BASELINE}"]


def test_the_worker_claims_an_events_baseline_run_before_its_new_model_run(
    workspace: tuple[Config, Database, SuiteSpec],
) -> None:
    config, db, spec = workspace
    _, run_id, baseline_id = _new_model_event(db, config, spec)
    assert claim_next_run(db, "w1") == baseline_id
    assert claim_next_run(db, "w1") == run_id


def test_one_at_a_time_a_new_model_stops_against_its_events_own_baseline_run(
    workspace: tuple[Config, Database, SuiteSpec],
) -> None:
    config, db, spec = workspace
    event_id, run_id, baseline_id = _new_model_event(db, config, spec)
    first = asyncio.run(work_once(db, config, worker_id="w1"))
    second = asyncio.run(work_once(db, config, worker_id="w1"))
    assert first is not None and first.run_id == baseline_id
    assert second is not None and second.run_id == run_id
    run = run_row(db, run_id)
    assert run.sequential is not None and run.sequential["baseline_run_id"] == baseline_id
    assert run.stopped_after is not None
    with db.session() as session:
        (suite,) = compare_event(session, config, event_id).suites
    _says_the_stop(suite, run, baseline_id)


def test_an_events_baseline_run_goes_before_its_own_runs_but_not_before_older_runs(any_db: Database) -> None:
    start = utcnow()
    with any_db.session() as session:
        suite = Suite(name="tiny", version="v1", sample_count=1)
        event = add_event(session, "new_model", f"sim:{CANDIDATE}")
        session.add(suite)
        session.flush()

        def run(model_id: str, trigger: str, minutes: int, event_id: int | None) -> int:
            row = Run(
                provider="sim",
                model_id=model_id,
                suite_id=suite.id,
                trigger=trigger,
                event_id=event_id,
                created_at=start + timedelta(minutes=minutes),
            )
            session.add(row)
            session.flush()
            return row.id

        older = run("gpt-sim-old", "manual", -5, None)
        own = run(CANDIDATE, "new_model", 0, event.id)
        between = run("gpt-sim-other", "manual", 1, None)
        baseline = run(BASELINE, "baseline", 2, event.id)
    claims = [claim_next_run(any_db, "w1") for _ in range(4)]
    assert claims == [older, baseline, own, between]
