"""`eval`, `runs` and `resume` on the command line; the cost guard for manual and scheduled runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from monitor.cli import main
from monitor.pipeline.queue import enqueue_runs
from monitor.pipeline.run.work import work_once
from monitor.simulator import Simulator
from monitor.store.db import open_database
from monitor.store.tables import Run
from tests.runner_helpers import KEY_ENV, open_workspace, write_workspace

TINY_BUDGET = "[budget]\nmax_cost_usd_per_run = 0.0000001\n"


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


def _cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def _run_count(config: Path) -> int:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        count = session.scalar(select(func.count(Run.id))) or 0
    db.dispose()
    return int(count)


def test_eval_prints_one_json_summary_per_run(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=5)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "sim:gpt-sim-mini", "--suite", "tiny", "--json")
    assert code == 0, output
    summaries = json.loads(output)
    assert [s["model_key"] for s in summaries] == ["sim:gpt-sim-base", "sim:gpt-sim-mini"]
    assert all(s["status"] == "done" and s["done"] == 5 and s["suite"] == "tiny" for s in summaries)
    assert all(s["cost_usd"] is not None and s["cost_usd"] > 0 for s in summaries)


def test_eval_table_shows_score_interval_latency_and_cost(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=5)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")
    assert code == 0, output
    assert "sim:gpt-sim-base" in output and "done" in output and "5/5" in output
    assert "[" in output and "$0.0" in output


def test_eval_with_an_unknown_provider_exits_2_naming_the_configured_ones(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_workspace(tmp_path, simulator.base_url)
    code, output = _cli(config, "eval", "nope:model", "--suite", "tiny")
    assert code == 2
    assert "nope" in output and "sim" in output
    assert _run_count(config) == 0


def test_a_manual_eval_over_budget_needs_yes(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=4, budget=TINY_BUDGET)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")
    assert code == 1
    assert "estimated cost" in output and "--yes" in output
    assert _run_count(config) == 0
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--yes", "--json")
    assert code == 0, output
    assert json.loads(output)[0]["status"] == "done"


def test_max_cost_below_the_estimate_needs_yes(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=4)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--max-cost", "0.0000001")
    assert code == 1
    assert "per-run limit" in output


def test_an_upper_bound_over_the_budget_is_said_and_needs_yes(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=3, price=False, budget=TINY_BUDGET)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")
    assert code == 1
    assert "estimated upper bound" in output and "--yes" in output
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--yes")
    assert code == 0, output
    assert "unknown" not in output


def test_a_scheduled_run_over_budget_is_skipped_with_its_estimate(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, spec = open_workspace(write_workspace(tmp_path, simulator.base_url, budget=TINY_BUDGET))
    with db.session() as session:
        (run,) = enqueue_runs(
            session, config, provider="sim", model_id="gpt-sim-base", trigger="drift", suites=[spec]
        )
        run_id = run.id
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.run_id == run_id
    assert summary.status == "skipped"
    assert summary.estimated_cost_usd is not None and summary.estimated_cost_usd > 0
    assert summary.error is not None and "cost guard" in summary.error and "estimated cost" in summary.error
    assert simulator.stats()["requests"] == 0
    assert asyncio.run(work_once(db, config, worker_id="w1")) is None


def test_work_once_executes_the_oldest_queued_run(tmp_path: Path, simulator: Simulator) -> None:
    config, db, spec = open_workspace(write_workspace(tmp_path, simulator.base_url, samples=4))
    with db.session() as session:
        (run,) = enqueue_runs(
            session, config, provider="sim", model_id="gpt-sim-base", trigger="drift", suites=[spec]
        )
        run_id = run.id
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None
    assert (summary.run_id, summary.status, summary.done) == (run_id, "done", 4)
    assert summary.estimated_cost_usd is not None


def test_a_new_model_also_queues_a_baseline_run_once_per_suite_version(
    tmp_path: Path, simulator: Simulator
) -> None:
    extra = '[baseline]\ndefault = "sim:gpt-sim-mini"\n'
    config, db, _spec = open_workspace(write_workspace(tmp_path, simulator.base_url, extra=extra))
    with db.session() as session:
        first = enqueue_runs(
            session, config, provider="sim", model_id="new-a", trigger="new_model", event_id=None
        )
        second = enqueue_runs(session, config, provider="sim", model_id="new-b", trigger="new_model")
        rows = [(r.model_id, r.trigger, r.status) for r in first + second]
    assert rows == [
        ("new-a", "new_model", "queued"),
        ("gpt-sim-mini", "baseline", "queued"),
        ("new-b", "new_model", "queued"),
    ]


def test_runs_lists_runs_with_filters_and_json(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=3)
    assert _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json")[0] == 0
    code, output = _cli(config, "runs", "--json")
    assert code == 0
    (listed,) = json.loads(output)
    assert (listed["model_key"], listed["status"], listed["trigger"]) == (
        "sim:gpt-sim-base",
        "done",
        "manual",
    )
    code, output = _cli(config, "runs", "--status", "failed", "--json")
    assert json.loads(output) == []
    code, output = _cli(config, "runs", "--model", "sim:gpt-sim-base")
    assert code == 0 and "tiny" in output


def test_resume_of_a_done_run_exits_2(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=2)
    run_id = json.loads(_cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json")[1])[0]["run_id"]
    code, output = _cli(config, "resume", str(run_id))
    assert code == 2
    assert "done" in output


def test_resume_of_a_run_waiting_on_its_batch_exits_1_saying_the_daemon_collects_it(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=2)
    run_id = json.loads(_cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json")[1])[0]["run_id"]
    db = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run_id).values(status="waiting", claimed_by=None))
    db.dispose()

    code, output = _cli(config, "resume", str(run_id))

    assert code == 1
    assert "waiting on its batch" in output and "None" not in output


def test_a_scheduled_run_with_unknown_price_and_a_budget_is_skipped(
    tmp_path: Path, simulator: Simulator
) -> None:
    config_path = write_workspace(tmp_path, simulator.base_url, price=False, budget=TINY_BUDGET)
    config, db, spec = open_workspace(config_path)
    with db.session() as session:
        enqueue_runs(
            session, config, provider="sim", model_id="gpt-sim-base", trigger="new_model", suites=[spec]
        )
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.status == "skipped"
    assert summary.estimated_cost_usd is not None and summary.estimated_cost_usd > 0
    assert summary.error is not None and "estimated upper bound" in summary.error


def test_a_scheduled_run_with_unknown_price_within_the_budget_is_evaluated(
    tmp_path: Path, simulator: Simulator
) -> None:
    budget = "[budget]\nmax_cost_usd_per_run = 5.0\nmax_cost_usd_per_day = 25.0\n"
    config_path = write_workspace(tmp_path, simulator.base_url, samples=3, price=False, budget=budget)
    config, db, spec = open_workspace(config_path)
    with db.session() as session:
        enqueue_runs(
            session, config, provider="sim", model_id="gpt-sim-base", trigger="new_model", suites=[spec]
        )
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.status == "done", summary
    assert summary.cost_usd is not None and summary.cost_usd > 0


def test_eval_marks_a_cost_estimated_at_an_upper_bound_price_and_names_its_source(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=2, price=False)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json")
    assert code == 0, output
    [summary] = json.loads(output)
    assert summary["cost_source"].startswith("estimated upper bound")
    code, output = _cli(config, "runs")
    assert "≤$" in output
    assert "upper-bound" in output  # the caption explains the mark


def test_a_runs_table_of_priced_runs_does_not_explain_the_upper_bound_mark(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=2)
    assert _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")[0] == 0
    code, output = _cli(config, "runs")
    assert code == 0 and "≤" not in output and "upper-bound" not in output
