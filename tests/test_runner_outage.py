"""Provider outages pause a run instead of turning its samples into errors; finished errors are resumable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.pipeline.queue import claim_run, new_worker_id
from monitor.pipeline.run.work import execute_run
from monitor.providers import limits
from monitor.providers.limits import InProcessLimiters
from monitor.simulator import Fault, Simulator
from monitor.store.tables import Run
from tests.runner_helpers import KEY_ENV, manual_run, open_workspace, result_count, stored, write_workspace


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Own limiters (and breakers) per test, and the simulator's key."""
    monkeypatch.setattr(limits, "LIMITERS", InProcessLimiters())
    monkeypatch.setenv(KEY_ENV, "sim-key")


def _run(config_path: Path) -> tuple[Any, Any, int]:
    config, db, spec = open_workspace(config_path)
    run_id, worker = manual_run(db, config, spec)
    return asyncio.run(execute_run(db, config, run_id, worker_id=worker)), db, run_id


@pytest.mark.parametrize("kind", ["overloaded", "reset"])
def test_a_provider_outage_within_the_pause_window_ends_with_every_sample_answered(
    kind: str, tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault(kind, count=6)])
    provider = "max_retries = 0\nmax_concurrency = 2\n"
    summary, db, run_id = _run(write_workspace(tmp_path, sim.base_url, samples=6, provider=provider))
    assert summary.status == "done" and summary.errored == 0
    assert [r["error_kind"] for r in stored(db, run_id)] == [None] * 6
    assert sim.stats()["faults_by_kind"] == {kind: 6}


def test_an_outage_longer_than_the_pause_bound_interrupts_the_run_with_nothing_recorded_as_an_error(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("reset")])
    provider = "max_retries = 0\noutage_pause_s = 0\n"
    summary, db, run_id = _run(write_workspace(tmp_path, sim.base_url, samples=4, provider=provider))
    assert summary.status == "interrupted"
    assert summary.error is not None and "unreachable provider" in summary.error
    assert f"model-monitor resume {run_id}" in summary.error
    assert result_count(db, run_id) == 0


def test_a_run_interrupted_by_an_outage_resumes_once_the_provider_is_back(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("reset")])
    config_path = write_workspace(
        tmp_path, sim.base_url, samples=4, provider="max_retries = 0\noutage_pause_s = 0\n"
    )
    first, db, run_id = _run(config_path)
    assert first.status == "interrupted"
    sim.state.faults.faults.clear()
    result = CliRunner().invoke(main, ["--config", str(config_path), "resume", str(run_id), "--json"])
    assert result.exit_code == 0, result.output
    assert [r["error_kind"] for r in stored(db, run_id)] == [None] * 4


def test_a_run_that_ends_with_errored_samples_is_done_with_errors(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("malformed_json", count=2)])
    provider = "max_retries = 0\nmax_concurrency = 1\n"
    summary, _db, _run_id = _run(write_workspace(tmp_path, sim.base_url, samples=5, provider=provider))
    assert summary.status == "done_with_errors"
    assert summary.errored == 2


def test_eval_exits_1_and_names_the_resume_command_when_samples_errored(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("malformed_json", count=1)])
    config_path = write_workspace(
        tmp_path, sim.base_url, samples=3, provider="max_retries = 0\nmax_concurrency = 1\n"
    )
    result = CliRunner().invoke(
        main, ["--config", str(config_path), "eval", "sim:gpt-sim-base", "--suite", "tiny"]
    )
    assert result.exit_code == 1
    assert "done with errors (1 of 3 samples errored)" in result.output
    assert "model-monitor resume 1" in result.output


def test_resume_retries_exactly_the_errored_samples_of_a_finished_run(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("malformed_json", count=2)])
    config_path = write_workspace(
        tmp_path, sim.base_url, samples=5, provider="max_retries = 0\nmax_concurrency = 1\n"
    )
    first, db, run_id = _run(config_path)
    assert first.status == "done_with_errors"
    answered_before = {r["key"]: r["output"] for r in stored(db, run_id) if r["error_kind"] is None}
    requests_before = sim.stats()["requests"]
    result = CliRunner().invoke(main, ["--config", str(config_path), "resume", str(run_id), "--json"])
    assert result.exit_code == 0, result.output
    rows = stored(db, run_id)
    assert len(rows) == 5 and all(r["error_kind"] is None for r in rows)
    assert {r["key"]: r["output"] for r in rows if r["key"] in answered_before} == answered_before
    assert sim.stats()["requests"] - requests_before == 2


def test_resume_of_a_run_done_with_every_sample_answered_is_refused(
    tmp_path: Path, simulator: Simulator
) -> None:
    config_path = write_workspace(tmp_path, simulator.base_url, samples=2)
    summary, _db, run_id = _run(config_path)
    assert summary.status == "done"
    result = CliRunner().invoke(main, ["--config", str(config_path), "resume", str(run_id)])
    assert result.exit_code == 2
    assert "nothing to resume" in result.output


def test_a_claimed_done_with_errors_run_can_be_resumed_by_a_worker(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("malformed_json", count=1)])
    config_path = write_workspace(
        tmp_path, sim.base_url, samples=2, provider="max_retries = 0\nmax_concurrency = 1\n"
    )
    first, db, run_id = _run(config_path)
    assert first.status == "done_with_errors"
    assert claim_run(db, run_id, new_worker_id())


def test_a_run_whose_only_errors_are_refusals_is_done_and_resume_sends_nothing_again(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("refusal", provider="openai", count=2)])
    config_path = write_workspace(tmp_path, sim.base_url, samples=4)
    summary, db, run_id = _run(config_path)
    assert (summary.status, summary.errored) == ("done", 2)
    config, _, _ = open_workspace(config_path)
    worker = new_worker_id()
    with db.session() as session:
        session.get(Run, run_id).status = "interrupted"  # as if stopped right after the last sample
    assert claim_run(db, run_id, worker)
    requests = sim.stats()["requests"]
    asyncio.run(execute_run(db, config, run_id, worker_id=worker))
    assert sim.stats()["requests"] == requests
    assert sorted(r["error_kind"] or "" for r in stored(db, run_id)) == ["", "", "refusal", "refusal"]
