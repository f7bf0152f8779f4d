"""The cost guard's estimate counts the judge's verdicts: one call per sample, judge grader and repeat,
at the judge model's price (unknown, a bound, never 0), in the guard, the budgets and `eval --dry-run`."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from monitor.cli import main
from monitor.core.config import Config
from monitor.pipeline.queue import enqueue_runs
from monitor.pipeline.run.guard import estimate_for_run
from monitor.pipeline.run.work import work_once
from monitor.simulator import Simulator
from monitor.store.db import Database
from monitor.store.tables import Result as ResultRow
from monitor.store.tables import Run
from tests.runner_helpers import KEY_ENV, open_workspace, write_workspace

JUDGE_KEY_ENV = "MM_TEST_JUDGE_KEY"
SAMPLES = 4
JUDGED_SUITE = """
name: tiny
description: Sums, graded by a number check and two judge graders on a provider of their own.
prompt:
  system: Reply with the number only.
  user: "{{ question }}"
params: {temperature: 0, max_tokens: 16}
graders:
  - {type: numeric}
  - {type: llm_judge, rubric: "The reply is the correct sum.", model: "judge:gpt-sim-mini"}
  - {type: llm_judge, rubric: "The reply is only a number.", model: "judge:gpt-sim-mini"}
samples_files: [tiny.jsonl]
"""
JUDGE_PROVIDER = """
[providers.judge]
type = "openai-compatible"
base_url = "{url}/v1"
api_key_env = "MM_TEST_JUDGE_KEY"
"""
# The judge's input is dear: its verdicts cost far more than the candidate's answers.
JUDGE_PRICE = """
[pricing."judge:gpt-sim-*"]
input = 3000.0
output = 1.0
"""


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")
    monkeypatch.setenv(JUDGE_KEY_ENV, "sim-key")


def _judged(tmp_path: Path, sim: Simulator, *, budget: str = "", judge_priced: bool = True) -> Path:
    """A workspace whose suite `tiny` is graded by two llm_judge graders on provider `judge`."""
    extra = JUDGE_PROVIDER.format(url=sim.base_url) + (JUDGE_PRICE if judge_priced else "")
    path = write_workspace(tmp_path, sim.base_url, samples=SAMPLES, budget=budget, extra=extra)
    (tmp_path / "evals" / "tiny.yaml").write_text(textwrap.dedent(JUDGED_SUITE))
    return path


def _queued(path: Path, repeat: int = 1) -> tuple[Config, Database, int]:
    config, db, spec = open_workspace(path)
    with db.session() as session:
        (run,) = enqueue_runs(
            session,
            config,
            provider="sim",
            model_id="gpt-sim-base",
            trigger="manual",
            suites=[spec],
            repeat=repeat,
        )
        return config, db, run.id


def _cli(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(path), *args])


def test_the_estimate_counts_one_judge_call_per_sample_judge_grader_and_repeat(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, run_id = _queued(_judged(tmp_path, simulator), repeat=3)
    estimate = estimate_for_run(db, config, run_id)
    assert estimate.calls == SAMPLES * 3
    assert estimate.judge_calls == SAMPLES * 2 * 3
    assert estimate.judge_cost_usd > 1.0  # the dear judge input
    assert estimate.cost_usd == pytest.approx(estimate.model_cost_usd + estimate.judge_cost_usd)
    db.dispose()


def test_the_estimate_of_a_suite_without_a_judge_has_no_judge_cost(
    tmp_path: Path, simulator: Simulator
) -> None:
    config, db, run_id = _queued(write_workspace(tmp_path, simulator.base_url, samples=SAMPLES))
    estimate = estimate_for_run(db, config, run_id)
    assert (estimate.judge_calls, estimate.judge_cost_usd) == (0, 0.0)
    assert estimate.cost_usd == estimate.model_cost_usd
    db.dispose()


def test_the_guard_skips_a_run_whose_judge_verdicts_alone_pass_the_per_run_cap(
    tmp_path: Path, simulator: Simulator
) -> None:
    path = _judged(tmp_path, simulator, budget="[budget]\nmax_cost_usd_per_run = 1.0\n")
    config, db, run_id = _queued(path)
    assert estimate_for_run(db, config, run_id).model_cost_usd < 0.01
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.status == "skipped"
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None and "per-run limit $1.0000" in (run.error or "")
        assert "judge judge:gpt-sim-mini" in (run.error or "")
        assert run.estimated_cost_usd is not None and run.estimated_cost_usd > 1.0
        assert session.scalars(select(ResultRow.id).where(ResultRow.run_id == run_id)).first() is None
    assert simulator.stats()["requests"] == 0
    db.dispose()


def test_the_daily_budget_check_counts_the_judge_verdicts(tmp_path: Path, simulator: Simulator) -> None:
    path = _judged(tmp_path, simulator, budget="[budget]\nmax_cost_usd_per_day = 1.0\n")
    config, db, run_id = _queued(path)
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.status == "skipped"
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None and "today's remaining budget" in (run.error or "")
    assert simulator.stats()["requests"] == 0
    db.dispose()


def test_eval_max_cost_compares_the_total_with_the_judge_verdicts(
    tmp_path: Path, simulator: Simulator
) -> None:
    path = _judged(tmp_path, simulator)
    result = _cli(path, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--max-cost", "1")
    assert result.exit_code == 1, result.output
    assert "per-run limit $1.0000" in " ".join(result.output.split())
    assert simulator.stats()["requests"] == 0


def test_dry_run_json_gives_the_judge_cost_next_to_the_models_and_the_total(
    tmp_path: Path, simulator: Simulator
) -> None:
    result = _cli(_judged(tmp_path, simulator), "eval", "sim:gpt-sim-base", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    (run,) = plan["runs"]
    assert run["calls"] == SAMPLES and run["judge_calls"] == SAMPLES * 2
    assert run["estimated_cost_usd"] < 0.01 < 1.0 < run["judge_cost_usd"]
    assert run["total_cost_usd"] == pytest.approx(run["estimated_cost_usd"] + run["judge_cost_usd"])
    assert run["judge_price_sources"] == {"judge:gpt-sim-mini": "config"}
    assert plan["judge_cost_usd"] == pytest.approx(run["judge_cost_usd"])
    assert plan["total_cost_usd"] == pytest.approx(run["total_cost_usd"])
    assert simulator.stats()["requests"] == 0


def test_dry_run_json_says_unknown_for_an_unpriced_judge_never_zero(
    tmp_path: Path, simulator: Simulator
) -> None:
    path = _judged(tmp_path, simulator, judge_priced=False)
    result = _cli(path, "eval", "sim:gpt-sim-base", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    (run,) = plan["runs"]
    assert run["estimated_cost_usd"] is not None  # the candidate is priced
    assert run["judge_cost_usd"] is None and run["total_cost_usd"] is None
    assert run["judge_cost_bound_usd"] > 0
    assert run["total_cost_bound_usd"] == pytest.approx(run["cost_bound_usd"] + run["judge_cost_bound_usd"])
    assert plan["judge_cost_usd"] is None and plan["total_cost_usd"] is None


def test_dry_run_table_shows_the_judge_cost_and_the_total(tmp_path: Path, simulator: Simulator) -> None:
    result = _cli(_judged(tmp_path, simulator), "eval", "sim:gpt-sim-base", "--dry-run")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "price of judge judge:gpt-sim-mini: config" in text
    assert "8 judge call(s)" in text and "estimated cost $" in text and "(model $" in text


def test_dry_run_table_says_unknown_for_an_unpriced_judge(tmp_path: Path, simulator: Simulator) -> None:
    path = _judged(tmp_path, simulator, judge_priced=False)
    result = _cli(path, "eval", "sim:gpt-sim-base", "--dry-run")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "estimated cost unknown (at most $" in text
    assert "judge unknown (≤$" in text
