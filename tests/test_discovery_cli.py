"""`model-monitor poll` and `model-monitor models`: tables, --json, and exit statuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from monitor.cli import main
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database, open_database
from monitor.store.tables import Model, ProviderPoll, Run
from tests.factories import add_suite

KEY = "cli-sim-key"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MM_CLI_KEY", KEY)


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    return make_simulator(
        api_key=KEY,
        models=[
            SimModel("gpt-sim-base"),
            SimModel("gpt-sim-mini"),
            SimModel("gpt-sim-late", release_after_polls=1),
            SimModel("claude-sim-one", "anthropic"),
        ],
    )


@pytest.fixture
def config_path(write_config: Callable[..., Path], sim: Simulator, tmp_path: Path) -> Path:
    (tmp_path / "evals").mkdir()
    return write_config(
        f"""
        [database]
        url = "sqlite:///{tmp_path / "monitor.db"}"

        [providers.oa]
        type = "openai"
        base_url = "{sim.base_url}/v1"
        api_key_env = "MM_CLI_KEY"
        max_retries = 0

        [providers.claude]
        type = "anthropic"
        base_url = "{sim.base_url}"
        api_key_env = "MM_CLI_KEY"
        max_retries = 0
        """
    )


def run(config_path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(config_path), *args])


def database(config_path: Path) -> Database:
    return open_database(f"sqlite:///{config_path.parent / 'monitor.db'}")


def test_poll_prints_a_table_of_outcomes_and_exits_0(config_path: Path) -> None:
    result = run(config_path, "poll")
    assert result.exit_code == 0, result.output
    assert "oa" in result.stdout and "claude" in result.stdout and "first poll" in result.stdout


def test_poll_json_lists_each_provider_outcome(config_path: Path) -> None:
    run(config_path, "poll")
    result = run(config_path, "poll", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["dry_run"] is False
    by_name = {p["name"]: p for p in data["providers"]}
    assert by_name["oa"]["new"] == ["gpt-sim-late"] and by_name["oa"]["bootstrap"] is False
    assert by_name["claude"]["listed"] == 1


def test_poll_exits_1_when_a_provider_fails_but_records_the_others(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = config_path.read_text() + '\n[providers.broken]\ntype = "gemini"\napi_key_env = "MM_CLI_ABSENT"\n'
    config_path.write_text(text)
    monkeypatch.delenv("MM_CLI_ABSENT", raising=False)
    result = run(config_path, "poll", "--json")
    assert result.exit_code == 1
    by_name = {p["name"]: p for p in json.loads(result.stdout)["providers"]}
    assert by_name["broken"]["ok"] is False and "MM_CLI_ABSENT" in by_name["broken"]["error"]
    assert by_name["oa"]["ok"] is True
    db = database(config_path)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Model).where(Model.provider == "oa")) == 2
    db.dispose()


def test_poll_provider_option_polls_only_that_provider(config_path: Path) -> None:
    result = run(config_path, "poll", "--provider", "claude", "--json")
    assert [p["name"] for p in json.loads(result.stdout)["providers"]] == ["claude"]


def test_poll_unknown_provider_exits_2(config_path: Path) -> None:
    result = run(config_path, "poll", "--provider", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr


def test_poll_dry_run_writes_nothing(config_path: Path) -> None:
    result = run(config_path, "poll", "--dry-run", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["dry_run"] is True
    db = database(config_path)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Model)) == 0
        assert s.scalar(select(func.count()).select_from(ProviderPoll)) == 0
    db.dispose()


def _finished_run(db: Database, model_id: str, suite: str, score: float, finished: datetime) -> None:
    with db.session() as s:
        suite_row = add_suite(s, name=suite, version=f"v-{finished.isoformat()}", size=1)
        s.add(
            Run(
                provider="oa",
                model_id=model_id,
                suite_id=suite_row.id,
                trigger="manual",
                status="done",
                score=score,
                finished_at=finished,
            )
        )


def test_models_json_shows_status_and_the_latest_score_per_suite(config_path: Path) -> None:
    run(config_path, "poll")
    db = database(config_path)
    now = datetime.now(UTC)
    _finished_run(db, "gpt-sim-base", "qa", 0.5, now - timedelta(days=2))
    _finished_run(db, "gpt-sim-base", "qa", 0.75, now - timedelta(days=1))
    _finished_run(db, "gpt-sim-base", "support", 0.9, now)
    db.dispose()
    result = run(config_path, "models", "--json")
    assert result.exit_code == 0, result.output
    by_id = {m["model_id"]: m for m in json.loads(result.stdout)}
    assert set(by_id) == {"gpt-sim-base", "gpt-sim-mini", "claude-sim-one"}
    assert by_id["gpt-sim-base"]["scores"] == {"qa": 0.75, "support": 0.9}
    assert by_id["gpt-sim-mini"]["scores"] == {} and by_id["gpt-sim-mini"]["status"] == "active"
    table = run(config_path, "models")
    assert table.exit_code == 0 and "0.750" in table.stdout


def test_models_removed_and_provider_filters(config_path: Path) -> None:
    run(config_path, "poll")
    db = database(config_path)
    with db.session() as s:
        mini = s.scalars(select(Model).where(Model.model_id == "gpt-sim-mini")).one()
        mini.removed_at = datetime.now(UTC)
    db.dispose()
    removed = json.loads(run(config_path, "models", "--removed", "--json").stdout)
    assert [(m["model_id"], m["status"]) for m in removed] == [("gpt-sim-mini", "removed")]
    claude = json.loads(run(config_path, "models", "--provider", "claude", "--json").stdout)
    assert [m["model_id"] for m in claude] == ["claude-sim-one"]


def test_models_new_since_filters_on_first_seen(config_path: Path) -> None:
    run(config_path, "poll")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert json.loads(run(config_path, "models", "--new-since", tomorrow, "--json").stdout) == []
    assert len(json.loads(run(config_path, "models", "--new-since", yesterday, "--json").stdout)) == 3


def test_models_bad_new_since_date_exits_2(config_path: Path) -> None:
    result = run(config_path, "models", "--new-since", "last tuesday")
    assert result.exit_code == 2 and "--new-since" in result.stderr
