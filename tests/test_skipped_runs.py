"""A run the cost guard skipped shows in `status`, the event report and the e-mail, with the command that
runs it anyway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import Config
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.deliver.message import build_event_email
from monitor.pipeline.report.write import write_event_report
from monitor.store.db import Database, open_database
from monitor.store.tables import Run
from tests.factories import T0, add_event, add_run, add_suite, make_config

WHY = "cost guard: estimated cost at most $9.00 (estimated upper bound (the price of x)) exceeds the limit"
EMAIL = '[email]\nsmtp_host = "127.0.0.1"\nfrom = "mm@example.com"\nto = ["team@example.com"]\n'


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, extra=EMAIL)


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    db = open_database(config.database_url)
    yield db
    db.dispose()


@pytest.fixture
def skipped(database: Database) -> tuple[int, int]:
    """(event id, skipped run id): a new model whose run the guard skipped; the baseline ran."""
    with database.session() as s:
        suite = add_suite(s, "qa", "v1", 4)
        add_run(s, suite, "sim:base", [True, False] * 2)
        event = add_event(s, "new_model", "sim:cand", created_at=T0 + timedelta(hours=1))
        run = add_run(s, suite, "sim:cand", [], event=event, status="skipped")
        run.error = WHY
        s.flush()
        return event.id, run.id


def test_the_comparison_and_the_mail_say_how_to_run_a_skipped_run(
    database: Database, config: Config, skipped: tuple[int, int]
) -> None:
    event_id, run_id = skipped
    with database.session() as s:
        comparison = compare_event(s, config, event_id)
    (suite,) = comparison.suites
    assert suite.note is not None and f"model-monitor resume {run_id} --yes" in suite.note
    message = build_event_email(config, comparison, report_path=None)
    text = message.get_body(("plain",))
    assert text is not None and f"model-monitor resume {run_id} --yes" in text.get_content()


def test_the_event_report_says_how_to_run_a_skipped_run(
    database: Database, config: Config, skipped: tuple[int, int]
) -> None:
    event_id, run_id = skipped
    html = write_event_report(database, config, event_id).read_text("utf-8")
    assert f"model-monitor resume {run_id} --yes" in html
    assert "estimated upper bound" in html


def test_status_lists_skipped_runs_with_the_command(
    database: Database, config: Config, skipped: tuple[int, int]
) -> None:
    _, run_id = skipped
    result = CliRunner().invoke(main, ["--config", str(config.path), "status"])
    assert f"skipped run {run_id}" in result.output
    assert f"model-monitor resume {run_id} --yes" in result.output
    as_json = CliRunner().invoke(main, ["--config", str(config.path), "status", "--json"])
    assert str(run_id) in as_json.output and "cost guard" in as_json.output
    with database.session() as s:
        run = s.get(Run, run_id)
        assert run is not None and run.status == "skipped"
