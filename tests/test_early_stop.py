"""Early stopping against the simulator: a scheduled run stops once its verdict is settled, a manual one
only when asked, a stopped run is complete and is never run again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import main
from monitor.core.config import Config
from monitor.evals.loader import SuiteSpec
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.compare.pairing import compare_runs
from monitor.pipeline.compare.wording import verdict_lines
from monitor.pipeline.run.progress import RunProgress
from monitor.pipeline.run.work import execute_run, work_once
from monitor.simulator import Simulator
from monitor.simulator.catalog import SimModel
from monitor.stats.sequential import sample_order
from monitor.stats.verdicts import VERDICT_WORSE
from monitor.store.db import Database
from monitor.store.tables import Run
from tests.runner_helpers import (
    KEY_ENV,
    manual_run,
    open_workspace,
    queue_event_run,
    result_count,
    run_row,
    stored,
    write_workspace,
)

SAMPLES = 200
BASELINE = "gpt-sim-prod"
CANDIDATE = "gpt-sim-new"
MODELS = [
    SimModel(BASELINE, skill=0.9, latency_ms=2, latency_jitter_ms=0),
    SimModel(CANDIDATE, skill=0.45, latency_ms=2, latency_jitter_ms=0),
]


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """A production model 90% right on sums and a new one 45% right: a clear difference."""
    return make_simulator(models=MODELS)


def _workspace(
    tmp_path: Path, simulator: Simulator, extra: str = ""
) -> tuple[Path, Config, Database, SuiteSpec]:
    path = write_workspace(
        tmp_path,
        simulator.base_url,
        samples=SAMPLES,
        extra=f'[baseline]\ndefault = ["sim:{BASELINE}"]\n{extra}',
    )
    config, db, spec = open_workspace(path)
    return path, config, db, spec


def _stored_baseline(db: Database, config: Config, spec: SuiteSpec) -> int:
    run_id, worker = manual_run(db, config, spec, model_id=BASELINE)
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, spec=spec))
    assert summary.status == "done" and summary.done == SAMPLES
    return run_id


def test_a_scheduled_run_with_a_stored_baseline_stops_early_done_with_its_reason(
    tmp_path: Path, simulator: Simulator
) -> None:
    _, config, db, spec = _workspace(tmp_path, simulator)
    assert config.schedule.early_stop
    baseline_id = _stored_baseline(db, config, spec)
    run_id, event_id = queue_event_run(db, config, spec, f"sim:{CANDIDATE}")
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.run_id == run_id
    run = run_row(db, run_id)
    assert run.status == "done" and run.finished_at is not None and run.claimed_by is None
    assert run.sequential is not None and run.sequential["baseline_run_id"] == baseline_id
    assert run.sequential["family"] == 1 and run.sequential["level"] == pytest.approx(0.025)
    assert run.stopped_after is not None and run.stopped_after < SAMPLES / 2
    assert run.stop_reason is not None
    assert run.stop_reason.startswith(
        f"stopped after {run.stopped_after} of {SAMPLES} samples: worse with p <"
    )
    assert summary.stop_reason == run.stop_reason and summary.samples_total == SAMPLES
    # The samples went in the run's stored random order: its first `stopped_after` are all stored.
    done = {row["key"] for row in stored(db, run_id)}
    order = sample_order((s.key for s in spec.samples), int(run.sequential["seed"]))
    assert set(order[: run.stopped_after]) <= done and len(done) < SAMPLES
    assert order[:20] != [s.key for s in spec.samples][:20]
    with db.session() as session:
        comparison = compare_event(session, config, event_id)
    (suite,) = comparison.suites
    paired = suite.paired
    assert paired is not None and paired.sequential is not None and paired.sequential.stopped
    assert paired.verdict == VERDICT_WORSE and paired.test == "betting e-process"
    assert paired.sequential.read == run.stopped_after and paired.n <= run.stopped_after
    lines = verdict_lines(paired)
    assert lines[1].startswith(f"stopped after {run.stopped_after} of {SAMPLES} samples: worse with p <")
    assert comparison.worse == 1


def test_a_manual_run_without_early_stop_never_stops_early(tmp_path: Path, simulator: Simulator) -> None:
    _, config, db, spec = _workspace(tmp_path, simulator)
    baseline_id = _stored_baseline(db, config, spec)
    run_id, worker = manual_run(db, config, spec, model_id=CANDIDATE)
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, spec=spec))
    run = run_row(db, run_id)
    assert summary.done == SAMPLES and run.stopped_after is None and run.stop_reason is None
    assert run.sequential is None
    with db.session() as session:
        paired = compare_runs(session, run_id, baseline_id, alpha=0.05).paired
    assert paired is not None and paired.sequential is None and paired.test == "mcnemar-exact"


def test_eval_early_stop_asks_for_it_on_a_manual_run_and_resume_then_does_nothing(
    tmp_path: Path, simulator: Simulator
) -> None:
    path, config, db, spec = _workspace(tmp_path, simulator)
    _stored_baseline(db, config, spec)
    result = CliRunner().invoke(
        main, ["--config", str(path), "eval", f"sim:{CANDIDATE}", "--suite", "tiny", "--early-stop", "--json"]
    )
    assert result.exit_code == 0, result.output
    with db.session() as session:
        run_id = session.scalar(select(Run.id).where(Run.model_id == CANDIDATE))
    assert run_id is not None
    run = run_row(db, run_id)
    assert run.status == "done" and run.stopped_after is not None and run.stop_reason is not None
    count, requests = result_count(db, run_id), simulator.state.stats.requests
    again = asyncio.run(execute_run(db, config, run_id, worker_id="w2", spec=spec, early_stop=False))
    assert again.status == "done" and again.stop_reason == run.stop_reason
    assert result_count(db, run_id) == count and simulator.state.stats.requests == requests
    resumed = CliRunner().invoke(main, ["--config", str(path), "resume", str(run_id)])
    assert resumed.exit_code == 2 and "nothing to resume" in resumed.output
    assert result_count(db, run_id) == count and simulator.state.stats.requests == requests


def test_no_stored_baseline_means_no_early_stop(tmp_path: Path, simulator: Simulator) -> None:
    _, config, db, spec = _workspace(tmp_path, simulator)
    run_id, worker = manual_run(db, config, spec, model_id=CANDIDATE)
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, spec=spec, early_stop=True))
    assert summary.done == SAMPLES and run_row(db, run_id).sequential is None


def test_an_interrupted_monitored_run_resumes_with_its_plan_and_order(
    tmp_path: Path, simulator: Simulator
) -> None:
    _, config, db, spec = _workspace(tmp_path, simulator)
    _stored_baseline(db, config, spec)
    run_id, worker = manual_run(db, config, spec, model_id=CANDIDATE)

    async def interrupted() -> None:
        stop = asyncio.Event()

        def progress(state: RunProgress) -> None:
            if state.done >= 5:
                stop.set()

        summary = await execute_run(
            db,
            config,
            run_id,
            worker_id=worker,
            spec=spec,
            early_stop=True,
            family=1,
            stop=stop,
            progress=progress,
            concurrency=1,
        )
        assert summary.status == "interrupted"

    asyncio.run(interrupted())
    plan = run_row(db, run_id).sequential
    assert plan is not None and run_row(db, run_id).stopped_after is None
    first = {row["key"] for row in stored(db, run_id)}
    order = sample_order((s.key for s in spec.samples), int(plan["seed"]))
    assert first == set(order[: len(first)])
    # Resumed without asking for early stopping: the stored plan still holds, and the run stops.
    summary = asyncio.run(execute_run(db, config, run_id, worker_id="w3", spec=spec))
    run = run_row(db, run_id)
    assert summary.status == "done" and run.sequential == plan and run.stopped_after is not None
    assert set(order[: run.stopped_after]) <= {row["key"] for row in stored(db, run_id)}
