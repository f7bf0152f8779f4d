"""A baseline or judge the daemon cannot call is a config problem said once: no crash loop, no stuck run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import main
from monitor.core.config import Config, load_config
from monitor.pipeline.poll.discovery import poll
from monitor.pipeline.queue import enqueue_runs, plan_new_model_runs
from monitor.pipeline.run.work import work_once
from monitor.providers.registry import cannot_call, uncallable_models
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database, open_database
from monitor.store.tables import Run

KEY_ENV = "MM_UNCALLABLE_SIM_KEY"
UNSET_ENV = "MM_UNCALLABLE_UNSET_KEY"
SUITE = """\
name: tiny
prompt:
  user: "What is 1 + 2?"
graders:
  - type: numeric
samples:
  - id: s1
    target: 3
"""


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")
    monkeypatch.delenv(UNSET_ENV, raising=False)


def _config(tmp_path: Path, base_url: str = "http://127.0.0.1:9") -> Config:
    (tmp_path / "evals").mkdir(exist_ok=True)
    (tmp_path / "evals" / "tiny.yaml").write_text(SUITE)
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "monitor.db"}"\n\n'
        f'[providers.sim]\ntype = "openai"\nbase_url = "{base_url}/v1"\napi_key_env = "{KEY_ENV}"\n'
        "max_retries = 0\n\n"
        f'[providers.openai]\ntype = "openai"\napi_key_env = "{UNSET_ENV}"\n\n'
        '[baseline]\ndefault = "openai:gpt-4.1"\n\n[suites]\ndirectory = "evals"\n'
    )
    return load_config(path)


def test_a_model_whose_provider_key_is_unset_cannot_be_called_and_the_reason_names_the_variable(
    tmp_path: Path,
) -> None:
    reason = cannot_call(_config(tmp_path), "openai:gpt-4.1")
    assert reason is not None and f"${UNSET_ENV}" in reason and "[providers.openai]" in reason


def test_a_model_of_an_unknown_provider_cannot_be_called(tmp_path: Path) -> None:
    reason = cannot_call(_config(tmp_path), "nowhere:model")
    assert reason is not None and "'nowhere' is not in [providers]" in reason


def test_the_config_problems_list_the_uncallable_baseline_once(tmp_path: Path) -> None:
    assert len(uncallable_models(_config(tmp_path))) == 1


def test_a_new_model_is_queued_without_the_baseline_that_cannot_be_called(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(
        api_key="sim-key", models=[SimModel("gpt-sim-base"), SimModel("gpt-sim-next", release_after_polls=1)]
    )
    config = _config(tmp_path, sim.base_url)
    db = open_database(config.database_url)
    poll(db, config)
    poll(db, config)
    assert plan_new_model_runs(db, config).queued_runs == 1
    with db.session() as session:
        runs = [(r.model_key, r.trigger) for r in session.scalars(select(Run))]
    assert runs == [("sim:gpt-sim-next", "new_model")]


def test_a_claimed_run_whose_provider_has_no_key_fails_with_the_reason_and_is_not_left_running(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    db = open_database(config.database_url)
    from monitor.evals.loader import load_suites

    with db.session() as session:
        (run,) = enqueue_runs(
            session,
            config,
            provider="openai",
            model_id="gpt-4.1",
            trigger="manual",
            suites=load_suites(config.suites_dir),
        )
        session.flush()
        run_id = run.id
    summary = asyncio.run(work_once(db, config, worker_id="w1"))
    assert summary is not None and summary.run_id == run_id
    assert summary.status == "failed"
    assert summary.error is not None and f"${UNSET_ENV}" in summary.error


def test_an_interrupted_baseline_run_counts_as_existing_so_no_duplicate_is_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UNSET_ENV, "set")  # the baseline is callable: only its existing run stops a second
    config = _config(tmp_path)
    db = open_database(config.database_url)
    from monitor.evals.loader import load_suites

    specs = load_suites(config.suites_dir)
    with db.session() as session:
        enqueue_runs(session, config, provider="sim", model_id="a", trigger="new_model", suites=specs)
    with db.session() as session:
        baseline = session.scalars(select(Run).where(Run.trigger == "baseline")).one()
        baseline.status = "interrupted"
    with db.session() as session:
        enqueue_runs(session, config, provider="sim", model_id="b", trigger="new_model", suites=specs)
    with db.session() as session:
        assert len(list(session.scalars(select(Run).where(Run.trigger == "baseline")))) == 1


def test_status_shows_the_config_problem_with_its_bracketed_section_name(tmp_path: Path) -> None:
    config = _config(tmp_path)
    open_database(config.database_url).dispose()
    result = CliRunner().invoke(main, ["--config", str(config.path), "status"])
    assert "config problem:" in result.output
    assert f"[providers.openai] reads its API key from ${UNSET_ENV}" in result.output.replace("\n", " ")


def test_status_json_lists_the_config_problems(tmp_path: Path, db: Database) -> None:
    import json

    config = _config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config.path), "status", "--json"])
    problems = json.loads(result.output)["config_problems"]
    assert len(problems) == 1 and UNSET_ENV in problems[0]
