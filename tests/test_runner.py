"""The runner against the simulator: results, totals, repeat, retries per fault, errors apart, resume."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.core.config import load_config
from monitor.pipeline.run.guard import estimate_for_run
from monitor.pipeline.run.persist import insert_results
from monitor.pipeline.run.progress import RunProgress
from monitor.pipeline.run.work import execute_run
from monitor.providers import limits as ratelimit
from monitor.simulator import Fault, Simulator
from monitor.store.tables import Result, Run
from tests.fake_clock import FakeClock
from tests.runner_helpers import KEY_ENV, manual_run, open_workspace, result_count, stored, write_workspace

FAST_RETRIES = "max_retries = 4\n"


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


def _execute(config_path: Path, **kwargs: Any) -> tuple[Any, Any, int]:
    config, db, spec = open_workspace(config_path)
    run_id, worker = manual_run(
        db, config, spec, repeat=kwargs.pop("repeat", 1), model_id=kwargs.pop("model_id", "gpt-sim-base")
    )
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, **kwargs))
    return summary, db, run_id


def test_a_run_stores_one_graded_result_per_sample_and_its_totals(
    tmp_path: Path, simulator: Simulator
) -> None:
    summary, db, run_id = _execute(write_workspace(tmp_path, simulator.base_url))
    rows = stored(db, run_id)
    assert summary.status == "done"
    assert [r["key"] for r in rows] == [f"t{i:03d}" for i in range(12)]
    assert all(r["output"] and r["error_kind"] is None and r["score"] in (0.0, 1.0) for r in rows)
    assert summary.passed == sum(1 for r in rows if r["passed"])
    assert summary.passed + summary.failed == 12 and summary.errored == 0
    assert summary.score == pytest.approx(summary.passed / 12)
    assert summary.ci_low is not None and summary.ci_low <= summary.score <= summary.ci_high  # type: ignore[operator]
    assert summary.input_tokens > 0 and summary.output_tokens > 0
    assert summary.latency_p50_ms is not None and summary.latency_p95_ms >= summary.latency_p50_ms  # type: ignore[operator]
    expected_cost = (summary.input_tokens * 1.0 + summary.output_tokens * 2.0) / 1e6
    assert summary.cost_usd == pytest.approx(expected_cost)
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert run.resolved_model is not None and run.system_fingerprint is not None
        assert run.claimed_by is None and run.finished_at is not None


def test_repeat_runs_each_sample_n_times(tmp_path: Path, simulator: Simulator) -> None:
    summary, db, run_id = _execute(write_workspace(tmp_path, simulator.base_url, samples=5), repeat=3)
    rows = stored(db, run_id)
    assert summary.samples_total == 15 and summary.done == 15
    assert sorted({(r["key"], r["repeat"]) for r in rows}) == [
        (f"t{i:03d}", rep) for i in range(5) for rep in range(3)
    ]


def test_unknown_price_costs_an_upper_bound_everywhere(tmp_path: Path, simulator: Simulator) -> None:
    summary, db, run_id = _execute(write_workspace(tmp_path, simulator.base_url, samples=4, price=False))
    assert summary.cost_usd is not None and summary.cost_usd > 0
    assert all(r["cost"] is not None and r["cost"] > 0 for r in stored(db, run_id))
    with db.session() as session:
        sources = set(session.scalars(select(Result.price_source).where(Result.run_id == run_id)))
    assert len(sources) == 1 and sources.pop().startswith("estimated upper bound")


@pytest.mark.parametrize(
    "kind", ["rate_limit", "server_error", "overloaded", "reset", "malformed_json", "truncated"]
)
def test_retries_recover_from_each_transient_fault(
    kind: str, tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault(kind, count=3)])
    summary, db, run_id = _execute(write_workspace(tmp_path, sim.base_url, samples=6, provider=FAST_RETRIES))
    rows = stored(db, run_id)
    assert summary.status == "done" and summary.errored == 0
    assert sum(r["attempts"] for r in rows) == 6 + 3
    assert sim.stats()["faults_by_kind"] == {kind: 3}


def test_a_hung_request_times_out_and_is_retried(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("timeout", count=2, hang_s=120)])
    provider = "timeout_s = 2\nmax_retries = 3\n"
    summary, db, run_id = _execute(write_workspace(tmp_path, sim.base_url, samples=4, provider=provider))
    assert summary.status == "done" and summary.errored == 0
    assert sum(r["attempts"] for r in stored(db, run_id)) == 4 + 2
    assert sim.stats()["faults_by_kind"] == {"timeout": 2}


def test_a_sample_whose_calls_keep_failing_is_an_error_that_does_not_lower_the_score(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("malformed_json", count=3)])
    provider = "max_retries = 0\nmax_concurrency = 1\n"
    summary, db, run_id = _execute(write_workspace(tmp_path, sim.base_url, samples=10, provider=provider))
    rows = stored(db, run_id)
    errors = [r for r in rows if r["error_kind"] is not None]
    graded = [r for r in rows if r["error_kind"] is None]
    assert summary.status == "done_with_errors"
    assert summary.errored == len(errors) == 3
    assert all(
        r["score"] is None and r["passed"] is None and r["error_kind"] == "bad_response" for r in errors
    )
    assert summary.passed + summary.failed == 7
    assert summary.score == pytest.approx(sum(r["score"] for r in graded) / 7)


def test_an_auth_error_fails_the_run_fast(
    tmp_path: Path, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "wrong-key")
    provider = "max_concurrency = 2\n"
    summary, db, run_id = _execute(
        write_workspace(tmp_path, simulator.base_url, samples=40, provider=provider)
    )
    assert summary.status == "failed"
    assert summary.error is not None and summary.error.startswith("auth")
    assert result_count(db, run_id) <= 2
    assert simulator.stats()["requests"] <= 4


def test_the_rpm_limit_spaces_requests(
    tmp_path: Path, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()  # the run's limiter waits on it: its time moves only by the waits it asks for
    monkeypatch.setattr(ratelimit, "LIMITERS", ratelimit.InProcessLimiters(clock=clock, sleep=clock.sleep))
    provider = "requests_per_minute = 600\nmax_concurrency = 8\n"
    summary, _db, _run = _execute(
        write_workspace(tmp_path, simulator.base_url, samples=15, provider=provider)
    )
    assert summary.status == "done" and summary.errored == 0
    assert clock.waits == pytest.approx([0.1] * 14)  # 15 requests at 10 per second


def test_429s_with_retry_after_are_waited_out(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(rpm_limit=300)  # 5 per second, the runner unaware of it
    provider = "max_retries = 8\nmax_concurrency = 8\n"
    summary, _db, _run = _execute(write_workspace(tmp_path, sim.base_url, samples=12, provider=provider))
    assert summary.status == "done" and summary.errored == 0
    assert sim.stats()["rate_limited"] > 0


def test_a_stopped_run_is_interrupted_and_resuming_sends_only_the_rest(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(latency_scale=2.0)
    config, db, spec = open_workspace(
        write_workspace(tmp_path, sim.base_url, samples=30, provider="max_concurrency = 2\n")
    )
    run_id, worker = manual_run(db, config, spec)

    async def stop_early() -> Any:
        stop = asyncio.Event()

        def watch(progress: RunProgress) -> None:
            if progress.done >= 6:
                stop.set()

        return await execute_run(db, config, run_id, worker_id=worker, progress=watch, stop=stop)

    first = asyncio.run(stop_early())
    kept = result_count(db, run_id)
    assert first.status == "interrupted"
    assert 6 <= kept < 30
    sent_before = sim.stats()["requests"]
    second = asyncio.run(execute_run(db, config, run_id, worker_id=worker))
    rows = stored(db, run_id)
    assert second.status == "done" and second.done == 30
    assert len({(r["key"], r["repeat"]) for r in rows}) == len(rows) == 30
    assert sim.stats()["requests"] - sent_before == 30 - kept


def test_a_cancelled_run_leaves_no_task_behind_sends_nothing_more_and_keeps_every_result(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(latency_scale=5.0)  # ~200 ms per answer
    config, db, spec = open_workspace(
        write_workspace(tmp_path, sim.base_url, samples=40, provider="max_concurrency = 4\n")
    )
    run_id, worker = manual_run(db, config, spec)
    seen: list[RunProgress] = []

    async def cancel_midway() -> tuple[set[asyncio.Task[Any]], int, int]:
        def watch(progress: RunProgress) -> None:
            seen.append(progress)
            if progress.done >= 6 and not run.cancelling():
                run.cancel()

        run = asyncio.create_task(execute_run(db, config, run_id, worker_id=worker, progress=watch))
        with pytest.raises(asyncio.CancelledError):
            await run
        left = asyncio.all_tasks() - {asyncio.current_task()}
        await asyncio.sleep(0.3)  # requests already on the wire reach the simulator
        settled = sim.stats()["requests"]
        await asyncio.sleep(1.0)  # an orphaned worker would send about 20 more in this window
        return left, settled, sim.stats()["requests"]

    left, settled, later = asyncio.run(cancel_midway())
    assert left == set()
    assert later == settled
    rows = stored(db, run_id)
    assert 6 <= len(rows) < 40
    assert len(rows) == seen[-1].done  # every result handed to the writer was stored
    assert all(r["output"] and r["error_kind"] is None and r["score"] in (0.0, 1.0) for r in rows)
    with db.session() as session:
        status = session.get(Run, run_id).status  # type: ignore[union-attr]
    assert status == "interrupted"
    sent_before = sim.stats()["requests"]
    resumed = asyncio.run(execute_run(db, config, run_id, worker_id=worker))
    assert resumed.status == "done" and resumed.done == 40
    assert len({(r["key"], r["repeat"]) for r in stored(db, run_id)}) == result_count(db, run_id) == 40
    assert sim.stats()["requests"] - sent_before == 40 - len(rows)


def test_writing_a_result_twice_is_skipped_not_an_error(tmp_path: Path, simulator: Simulator) -> None:
    summary, db, run_id = _execute(write_workspace(tmp_path, simulator.base_url, samples=3))
    row = {
        "run_id": run_id,
        "sample_key": "t000",
        "repeat": 0,
        "prompt_hash": "x",
        "output": "duplicate",
        "grades": [],
        "attempts": 1,
    }
    insert_results(db, [row, row])
    assert result_count(db, run_id) == 3
    assert stored(db, run_id)[0]["output"] != "duplicate"
    assert summary.done == 3


def test_results_are_written_once_on_every_database(
    tmp_path: Path, simulator: Simulator, any_db_url: str
) -> None:
    config_path = write_workspace(tmp_path, simulator.base_url, samples=8, database_url=any_db_url)
    summary, db, run_id = _execute(config_path)
    assert summary.status == "done" and summary.done == 8
    rows = stored(db, run_id)
    insert_results(db, [{"run_id": run_id, "sample_key": rows[0]["key"], "repeat": 0, "prompt_hash": "x"}])
    assert result_count(db, run_id) == 8
    db.dispose()


def test_a_run_whose_suite_file_changed_is_finished_with_its_stored_version(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(write_workspace(tmp_path, simulator.base_url, samples=5))
    run_id, worker = manual_run(db, config, spec)
    (tmp_path / "evals" / "tiny.jsonl").write_text("")  # the file now holds another (broken) version
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker))
    assert summary.status == "done" and summary.done == 5
    assert summary.suite_version == spec.version
    assert [r["key"] for r in stored(db, run_id)] == [s.key for s in spec.samples]


def test_max_cost_stops_the_run_before_its_actual_cost_would_pass_it(
    tmp_path: Path, simulator: Simulator
) -> None:
    """Each sample's estimated cost is reserved before it is sent: the run stops when the next one
    would not fit under the cap with the real cost so far."""
    config_path = write_workspace(tmp_path, simulator.base_url, samples=40, provider="max_concurrency = 1\n")
    summary, db, run_id = _execute(config_path, max_cost_usd=0.0002)
    assert summary.status == "failed"
    assert summary.error is not None and "cost limit" in summary.error
    assert 0 < result_count(db, run_id) < 40
    left = estimate_for_run(db, load_config(config_path), run_id)  # the samples not sent
    assert (
        summary.cost_usd is not None
        and summary.cost_usd <= 0.0002 < summary.cost_usd + left.cost_usd / left.calls
    )


def test_a_stop_during_retries_leaves_the_sample_to_do_rather_than_an_error(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("overloaded")])
    config_path = write_workspace(tmp_path, sim.base_url, samples=4, provider="max_retries = 10\n")
    config, db, spec = open_workspace(config_path)
    run_id, worker = manual_run(db, config, spec)

    async def stop_soon() -> Any:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        return await execute_run(db, config, run_id, worker_id=worker, stop=stop)

    summary = asyncio.run(stop_soon())
    assert summary.status == "interrupted"
    assert result_count(db, run_id) == 0
    assert sim.stats()["requests"] >= 4


def test_an_empty_answer_cut_off_by_the_token_limit_is_an_error_not_a_failure(
    tmp_path: Path, simulator: Simulator
) -> None:
    summary, db, run_id = _execute(
        write_workspace(tmp_path, simulator.base_url, samples=4), model_id="o9-sim"
    )
    rows = stored(db, run_id)
    assert summary.errored == 4 and summary.failed == 0 and summary.score is None
    assert {r["error_kind"] for r in rows} == {"token_budget"}
    with db.session() as session:
        message = session.scalars(select(Result.error_message).where(Result.run_id == run_id)).first()
    assert message is not None and "raise the suite's max_tokens" in message
