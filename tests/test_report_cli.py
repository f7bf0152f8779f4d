"""`model-monitor report`: which files it writes, JSON output, and exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import Config
from monitor.store.db import Database
from tests.factories import add_event, add_run, add_suite, make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def run_ids(db: Database) -> list[int]:
    with db.session() as s:
        suite = add_suite(s, "qa", "v1", 4)
        base = add_run(s, suite, "sim:base", [True, True, False, True])
        event = add_event(s, "new_model", "sim:cand")
        cand = add_run(s, suite, "sim:cand", [True, False, False, None], event=event)
        return [base.id, cand.id]


def invoke(config: Config, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config.path), *args])
    return result.exit_code, result.output


def test_report_run_id_writes_the_run_report_and_the_index(config: Config, run_ids: list[int]) -> None:
    code, out = invoke(config, "report", str(run_ids[1]), "--json")
    assert code == 0, out
    paths = [Path(p) for p in json.loads(out)]
    assert [p.parent.name for p in paths] == ["runs", "reports"]
    assert all(p.is_file() for p in paths)


def test_report_all_writes_every_report(config: Config, run_ids: list[int]) -> None:
    code, out = invoke(config, "report", "--all", "--json")
    assert code == 0, out
    names = sorted(Path(p).parent.name for p in json.loads(out))
    assert names == ["events", "reports", "runs", "runs"]


def test_report_event_writes_the_event_report(config: Config, run_ids: list[int]) -> None:
    code, out = invoke(config, "report", "--event", "1")
    assert code == 0, out
    assert "events/1-new_model-sim-cand-" in out


def test_report_of_an_unknown_run_exits_2_and_writes_nothing(config: Config, run_ids: list[int]) -> None:
    code, out = invoke(config, "report", "999")
    assert code == 2
    assert "no run with id 999" in out
    assert not config.reports_dir.exists()


def test_report_needs_exactly_one_target(config: Config, run_ids: list[int]) -> None:
    assert invoke(config, "report")[0] == 2
    assert invoke(config, "report", "1", "--all")[0] == 2
