"""Providers, no suites: the monitor watches model lists (polls, records, reports) and evaluates nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import Config, load_config
from monitor.pipeline.complete import complete_events
from monitor.pipeline.poll.discovery import poll
from monitor.pipeline.queue import plan_new_model_runs
from monitor.simulator import SimModel, Simulator
from monitor.store.db import open_database

KEY_ENV = "MM_WATCH_ONLY_KEY"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


def _config(tmp_path: Path, base_url: str = "http://127.0.0.1:9") -> Config:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "monitor.db"}"\n\n'
        f'[providers.oa]\ntype = "openai"\nbase_url = "{base_url}/v1"\napi_key_env = "{KEY_ENV}"\n'
        "max_retries = 0\n"
        f'[reports]\ndirectory = "{tmp_path / "reports"}"\n'
    )
    return load_config(path)


def test_check_warns_that_nothing_is_evaluated_without_suites_and_exits_0(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config.path), "check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["problems"] == []
    assert any("models will be recorded, nothing evaluated" in w for w in report["warnings"])


def test_a_new_model_is_recorded_and_reported_with_no_run(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(
        api_key="sim-key", models=[SimModel("gpt-sim-base"), SimModel("gpt-sim-next", release_after_polls=1)]
    )
    config = _config(tmp_path, sim.base_url)
    db = open_database(config.database_url)
    assert poll(db, config).ok and poll(db, config).ok
    assert plan_new_model_runs(db, config).queued_runs == 0
    [event_id] = complete_events(db, config)
    html = next((tmp_path / "reports").rglob(f"*{event_id}*.html")).read_text()
    assert "gpt-sim-next" in html
