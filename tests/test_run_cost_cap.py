"""The per-run cap held against the real cost as a run goes, and the judge's calls on the shared limits."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.core.config import Config
from monitor.pipeline.queue import claim_next_run, enqueue_runs
from monitor.pipeline.run.guard import estimate_for_run, settle_reservations
from monitor.pipeline.run.work import execute_run, work_once
from monitor.providers import limits
from monitor.providers.limits import InProcessLimiters, ProviderLimiter, limiter_for
from monitor.simulator import Simulator
from monitor.store.db import Database
from monitor.store.tables import BudgetDay, ConcurrencyLease, Result, Run
from tests.runner_helpers import KEY_ENV, open_workspace, write_workspace

JUDGE_KEY_ENV = "MM_TEST_JUDGE_KEY"
SAMPLES = 8
JUDGED_SUITE = """
name: tiny
description: Sums, graded by a number check and a judge on a provider of its own.
prompt:
  system: Reply with the number only.
  user: "{{ question }}"
params: {temperature: 0, max_tokens: 16}
graders:
  - {type: numeric}
  - {type: llm_judge, rubric: "The reply is the correct sum.", model: "judge:gpt-sim-mini"}
samples_files: [tiny.jsonl]
"""
# The judge's input is dear: its verdicts cost far more than the answers the run's estimate counts.
JUDGE = """
[providers.judge]
type = "openai-compatible"
base_url = "{url}/v1"
api_key_env = "MM_TEST_JUDGE_KEY"
shared_limits = true
requests_per_minute = 60000
tokens_per_minute = 10000000

[pricing."judge:gpt-sim-*"]
input = 3000.0
output = 1.0
"""


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "LIMITERS", InProcessLimiters())
    monkeypatch.setenv(KEY_ENV, "sim-key")
    monkeypatch.setenv(JUDGE_KEY_ENV, "sim-key")


def _judged_workspace(tmp_path: Path, url: str, sim: Simulator, budget: str) -> tuple[Config, Database, int]:
    """A queued run of the judged suite; the judge is on provider `judge`, sharing its limits."""
    path = write_workspace(
        tmp_path,
        sim.base_url,
        samples=SAMPLES,
        database_url=url,
        budget=budget,
        extra=JUDGE.format(url=sim.base_url),
    )
    (tmp_path / "evals" / "tiny.yaml").write_text(textwrap.dedent(JUDGED_SUITE))
    config, db, spec = open_workspace(path)
    limits.share_limits_through(db)
    with db.session() as session:
        (run,) = enqueue_runs(
            session, config, provider="sim", model_id="gpt-sim-base", trigger="manual", suites=[spec]
        )
        return config, db, run.id


def test_the_per_run_cap_stops_a_run_started_past_the_guard_at_its_real_cost(
    tmp_path: Path, any_db_url: str, make_simulator: Callable[..., Simulator]
) -> None:
    """The guard's estimate (the judge's verdicts in it) passes the cap; started anyway (as `eval --yes`
    starts it), the run is stopped by the cap before its real cost passes it."""
    config, db, run_id = _judged_workspace(
        tmp_path, any_db_url, make_simulator(), "[budget]\nmax_cost_usd_per_run = 1.0\n"
    )
    assert estimate_for_run(db, config, run_id).cost_usd > 1.0
    assert claim_next_run(db, "w1") == run_id
    summary = asyncio.run(execute_run(db, config, run_id, worker_id="w1", max_cost_usd=1.0))
    assert summary is not None and summary.status == "failed"
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None and "cost limit $1.0000" in (run.error or "")
        stored = session.scalar(select(func.count(Result.id)).where(Result.run_id == run_id))
    assert 0 < (stored or 0) < SAMPLES
    # Stopped before it would pass the cap: one more sample (a verdict estimated at $0.54) did not fit.
    assert run.cost_usd is not None and 0.4 < run.cost_usd <= 1.0
    db.dispose()


def test_the_judges_calls_count_against_its_shared_limits_and_the_budget(
    tmp_path: Path, any_db_url: str, make_simulator: Callable[..., Simulator]
) -> None:
    config, db, run_id = _judged_workspace(
        tmp_path, any_db_url, make_simulator(), "[budget]\nmax_cost_usd_per_day = 100.0\n"
    )
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.status == "done"
    judge_limits = limiter_for(config.providers["judge"])
    assert isinstance(judge_limits, ProviderLimiter) and judge_limits.shared is not None
    assert judge_limits.shared.requests is not None and judge_limits.shared.requests.taken >= SAMPLES
    assert judge_limits.shared.tokens is not None and judge_limits.shared.tokens.taken > 0
    settle_reservations(db)
    with db.session() as session:
        run = session.get(Run, run_id)
        day = session.scalars(select(BudgetDay)).one()
        leased = session.scalars(select(ConcurrencyLease.account).distinct()).all()
    assert run is not None and run.cost_usd is not None and run.cost_usd > 1.0  # the verdicts' cost
    assert (day.spent_usd, day.reserved_usd) == (pytest.approx(run.cost_usd), pytest.approx(0.0))
    assert leased == [limits.Account.of(config.providers["judge"]).key]
    db.dispose()
