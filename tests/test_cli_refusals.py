"""Bad input refused before anything is sent or written: unknown model ids, `--dry-run`, `compare X X`,
an unknown `--provider`, and reading commands without a database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, update

from monitor.cli import main
from monitor.simulator import Simulator
from monitor.simulator.faults import Fault
from monitor.store.db import open_database
from monitor.store.tables import Model, Run
from tests.runner_helpers import KEY_ENV, write_workspace


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


def cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def run_count(config: Path) -> int:
    database = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with database.session() as session:
        count = session.scalar(select(func.count(Run.id))) or 0
    database.dispose()
    return int(count)


def chat_calls(sim: Simulator) -> int:
    """Chat requests the simulator answered (model-list calls left out)."""
    stats = sim.stats()
    return int(stats["requests"]) - sum(stats["polls"].values())


def polled(config: Path) -> Path:
    """The workspace after one `poll`, so the models table knows the simulator's line-up."""
    result = cli(config, "poll")
    assert result.exit_code == 0, result.output
    return config


def test_eval_without_the_providers_key_exits_2_naming_the_variable_and_creates_no_run(
    tmp_path: Path, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url))
    monkeypatch.delenv(KEY_ENV)

    result = cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")

    assert result.exit_code == 2, result.output
    assert KEY_ENV in result.output
    assert run_count(config) == 0


def test_eval_of_a_suite_whose_judge_names_an_unknown_provider_exits_2_and_creates_no_run(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url))
    suite = tmp_path / "evals" / "tiny.yaml"
    text = suite.read_text()
    assert "graders:" in text
    suite.write_text(
        text.replace("graders:", 'graders:\n  - {type: llm_judge, rubric: "ok", model: "nosuch:judge-1"}', 1)
    )

    result = cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")

    assert result.exit_code == 2, result.output
    assert "nosuch:judge-1: provider 'nosuch' is not in [providers]" in " ".join(result.output.split())
    assert run_count(config) == 0


def test_an_unknown_model_id_is_refused_with_the_nearest_known_ids(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url, samples=16))
    before = simulator.stats()["requests"]
    result = cli(config, "eval", "sim:gpt-sim-bsae", "--suite", "tiny")
    assert result.exit_code == 2, result.output
    assert "'sim:gpt-sim-bsae' is not in the models `poll` recorded" in result.output
    assert "nearest: sim:gpt-sim-base" in result.output and "--force" in result.output
    assert simulator.stats()["requests"] == before  # one query, no list call, no chat call
    assert run_count(config) == 0


def test_a_never_polled_provider_is_listed_once_before_deciding(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=16)
    result = cli(config, "eval", "sim:no-such-model", "--suite", "tiny")
    assert result.exit_code == 2, result.output
    assert "not in its model list for sim" in result.output and "nearest: sim:" in result.output
    assert simulator.stats()["polls"]["openai"] == 1
    assert chat_calls(simulator) == 0
    assert run_count(config) == 0


def test_a_known_model_id_starts_without_listing_again(tmp_path: Path, simulator: Simulator) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url, samples=3))
    result = cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json")
    assert result.exit_code == 0, result.output
    assert simulator.stats()["polls"]["openai"] == 1  # the poll's list call only
    assert chat_calls(simulator) == 3


def test_force_evaluates_an_id_the_list_does_not_know(tmp_path: Path, simulator: Simulator) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url, samples=2))
    result = cli(config, "eval", "sim:no-such-model", "--suite", "tiny", "--force", "--json")
    assert run_count(config) == 1
    assert chat_calls(simulator) > 0
    assert json.loads(result.stdout)[0]["model_key"] == "sim:no-such-model"


def test_a_removed_model_is_refused_saying_when_it_was_removed(tmp_path: Path, simulator: Simulator) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url))
    database = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    with database.session() as session:
        session.execute(
            update(Model)
            .where(Model.model_id == "gpt-sim-mini")
            .values(removed_at=datetime(2026, 3, 1, tzinfo=UTC))
        )
    database.dispose()
    result = cli(config, "eval", "sim:gpt-sim-mini", "--suite", "tiny")
    assert result.exit_code == 2, result.output
    assert "'sim:gpt-sim-mini' was removed from sim's list on 2026-03-01" in result.output
    assert chat_calls(simulator) == 0 and run_count(config) == 0


def test_a_provider_whose_list_fails_is_a_clear_error_suggesting_force(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(faults=[Fault("server_error", endpoint="models")])
    config = write_workspace(tmp_path, sim.base_url, provider="max_retries = 0\n")
    result = cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny")
    assert result.exit_code == 1, result.output
    assert "cannot check the model ids of 'sim'" in result.output and "pass --force" in result.output
    assert "Traceback" not in result.output
    stats = sim.stats()
    assert stats["requests"] == stats["faults_by_kind"]["server_error"] == 1  # the list call only
    assert run_count(config) == 0


def test_dry_run_prints_the_plan_and_cost_and_sends_and_writes_nothing(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=4)
    models = ("sim:gpt-sim-base", "sim:gpt-sim-mini")
    result = cli(config, "eval", *models, "--suite", "tiny", "--repeat", "3", "--dry-run")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "dry run: nothing sent, nothing written" in text
    assert "2 run(s), 24 call(s), estimated cost $" in text
    assert "sim:gpt-sim-base" in result.output and "sim:gpt-sim-mini" in result.output
    assert simulator.stats()["requests"] == 0
    assert not (tmp_path / "monitor.db").exists()


def test_dry_run_json_says_unknown_for_an_unpriced_model_never_zero(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=5, price=False)
    result = cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    (run,) = plan["runs"]
    assert (run["model_key"], run["suite"], run["variant"]) == ("sim:gpt-sim-base", "tiny", "default")
    assert (run["samples"], run["repeat"], run["calls"]) == (5, 1, 5)
    assert run["estimated_cost_usd"] is None and plan["estimated_cost_usd"] is None
    assert run["cost_bound_usd"] > 0 and run["price_source"].startswith("estimated")
    assert simulator.stats()["requests"] == 0
    assert not (tmp_path / "monitor.db").exists()


def test_dry_run_table_says_unknown_for_an_unpriced_model(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url, samples=5, price=False)
    result = cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "estimated cost unknown (at most $" in " ".join(result.output.split())
    assert "$0.0000" not in result.output


def test_compare_a_model_with_itself_exits_2(tmp_path: Path, simulator: Simulator) -> None:
    config = write_workspace(tmp_path, simulator.base_url)
    result = cli(config, "compare", "sim:gpt-sim-base", "sim:gpt-sim-base")
    assert result.exit_code == 2
    assert "compare needs two different models; both are 'sim:gpt-sim-base'" in result.output


def test_compare_an_unknown_model_exits_2_with_the_nearest_known_ids(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url, samples=2))
    assert cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny").exit_code == 0
    result = cli(config, "compare", "sim:gpt-sim-mnii", "sim:gpt-sim-base")
    assert result.exit_code == 2, result.output
    assert "no model 'sim:gpt-sim-mnii' in the database" in result.output
    assert "nearest: sim:gpt-sim-mini" in result.output


def test_models_with_an_unknown_provider_exits_2_naming_the_configured_ones(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = polled(write_workspace(tmp_path, simulator.base_url))
    result = cli(config, "models", "--provider", "nope")
    assert result.exit_code == 2
    assert "--provider 'nope' is not in [providers] (sim)" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ("runs",),
        ("models",),
        ("compare", "sim:a", "sim:b"),
        ("status",),
        ("report", "--all"),
    ],
)
def test_a_reading_command_without_a_database_exits_2_and_creates_none(
    tmp_path: Path, simulator: Simulator, command: tuple[str, ...]
) -> None:
    config = write_workspace(tmp_path, simulator.base_url)
    result = cli(config, *command)
    assert result.exit_code == 2, result.output
    assert f"no database at {tmp_path / 'monitor.db'} yet" in " ".join(result.output.split())
    assert not (tmp_path / "monitor.db").exists()
