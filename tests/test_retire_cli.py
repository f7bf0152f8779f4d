"""`models` shows retirement dates and their source; `status` warns about baselines near or past theirs."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import Config, load_config
from monitor.service.status import collect_status
from monitor.store.db import Database, open_database
from monitor.store.tables import Model, utcnow

TODAY = utcnow().date()


def write(tmp_path: Path, retirements: str) -> Config:
    path = tmp_path / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            """
            [database]
            url = "sqlite:///monitor.db"

            [providers.openai]
            type = "openai"
            api_key_env = "MM_TEST_OPENAI_KEY"

            [baseline]
            default = ["openai:gpt-4o-2024-08-06", "openai:gpt-sim-soon"]

            [schedule]
            watch = ["openai:gpt-sim-gone"]
            """
        )
        + textwrap.dedent(retirements)
    )
    return load_config(path)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    soon = (TODAY + dt.timedelta(days=10)).isoformat()
    return write(tmp_path, f'[retirements]\n"openai:gpt-sim-soon" = {soon}\n')


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    db = open_database(config.database_url)
    with db.session() as s:
        gone = (TODAY - dt.timedelta(days=5)).isoformat()
        s.add(Model(provider="openai", model_id="gpt-4o-2024-08-06", raw={}))
        s.add(Model(provider="openai", model_id="gpt-sim-soon", raw={}))
        s.add(Model(provider="openai", model_id="gpt-sim-gone", raw={"shutdown_date": gone}))
        s.add(Model(provider="openai", model_id="gpt-sim-plain", raw={}))
    yield db
    db.dispose()


def run(config: Config, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config.path), *args])
    return result.exit_code, result.output


def test_models_json_gives_each_models_retirement_and_its_source(config: Config, database: Database) -> None:
    code, output = run(config, "models", "--json")
    assert code == 0, output
    found = {row["model_id"]: row["retirement"] for row in json.loads(output)}
    assert found["gpt-sim-plain"] is None
    assert found["gpt-sim-soon"]["source"] == "config"
    assert found["gpt-sim-gone"]["source"] == "provider"
    assert found["gpt-4o-2024-08-06"]["source"] == "table"
    assert found["gpt-4o-2024-08-06"]["date"] == "2027-01-14"
    assert "developers.openai.com" in found["gpt-4o-2024-08-06"]["detail"]


def test_models_table_shows_the_retirement_date_and_source(config: Config, database: Database) -> None:
    code, output = run(config, "models")
    assert code == 0, output
    assert "2027-01-14" in output and "(table)" in output and "(config)" in output


def test_status_warns_about_baselines_and_watched_models_in_their_window(
    config: Config, database: Database
) -> None:
    _code, output = run(config, "status")
    assert "retirement:" in output
    assert "openai:gpt-sim-soon retires on" in output and "in 10 days" in output
    assert "openai:gpt-sim-gone retired on" in output and "5 days ago" in output


def test_status_json_lists_the_retirement_warnings(config: Config, database: Database) -> None:
    _code, output = run(config, "status", "--json")
    warnings = json.loads(output)["retirements"]
    models = [w.split(" ")[0] for w in warnings]
    assert models.index("openai:gpt-sim-gone") < models.index("openai:gpt-sim-soon")  # soonest first


@pytest.mark.parametrize(("days_before", "warned"), [(59, True), (60, True), (61, False)])
def test_status_warns_only_inside_the_notice_window(
    config: Config, database: Database, days_before: int, warned: bool
) -> None:
    table_date = dt.datetime(2027, 1, 14, 12, tzinfo=dt.UTC)  # the shipped table's gpt-4o-2024-08-06
    report = collect_status(database, config, now=table_date - dt.timedelta(days=days_before))
    assert any(w.startswith("openai:gpt-4o-2024-08-06 ") for w in report.retirements) is warned
