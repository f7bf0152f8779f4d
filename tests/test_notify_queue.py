"""Which [[notify]] targets hear of an event: one row per target in the event's transaction, by filter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.complete import complete_events
from monitor.pipeline.deliver.notify import enqueue_event_notifications
from monitor.store.db import Database
from monitor.store.tables import Event
from tests.factories import T0, add_event, add_run, add_suite
from tests.notify_helpers import notification_rows, setup

EVERYTHING = """
[[notify]]
name = "everything"
url_env = "NOTIFY_ALL_URL"
"""


def target(name: str, on: list[str], *, only_significant: bool = False) -> str:
    return (
        f'\n[[notify]]\nname = "{name}"\nurl_env = "NOTIFY_URL"\non = {on!r}\n'.replace("'", '"')
        + f"only_significant = {'true' if only_significant else 'false'}\n"
    )


def new_model_event(db: Database, candidate: list[bool], *, skipped: bool = False) -> int:
    """A finished new-model event of sim:new against sim:base (18 of 20 passed) on one suite.

    Each call adds a new version of the suite, so several events in one test stay apart.
    """
    with db.session() as s:
        version = f"v{len(list(s.scalars(select(Event.id)))) + 1}"
        suite = add_suite(s, version=version, size=20)
        event = add_event(s, "new_model", "sim:new")
        add_run(s, suite, "sim:new", candidate, event=event, trigger="new_model")
        add_run(s, suite, "sim:base", [True] * 18 + [False] * 2, event=event, trigger="baseline")
        if skipped:
            other = add_suite(s, name="costly", version=version, size=4)
            run = add_run(s, other, "sim:new", [], event=event, trigger="new_model", status="skipped")
            run.error = "over the daily budget"
        return event.id


WORSE = [True] * 6 + [False] * 14
SAME = [True] * 18 + [False] * 2
BETTER_BASE = [True] * 20


def told(db: Database) -> dict[str, str]:
    return {row.target: row.kind for row in notification_rows(db)}


def test_a_reported_event_queues_one_notification_per_target_exactly_once(
    tmp_path: Path, any_db_url: str
) -> None:
    config, db = setup(tmp_path, EVERYTHING + target("second", ["new_model"]), any_db_url)
    event_id = new_model_event(db, SAME)

    assert complete_events(db, config) == [event_id]
    assert complete_events(db, config) == []

    assert [(r.dedupe_key, r.target, r.status, r.event_id) for r in notification_rows(db)] == [
        (f"event:{event_id}:everything", "everything", "pending", event_id),
        (f"event:{event_id}:second", "second", "pending", event_id),
    ]
    db.dispose()


def test_the_row_holds_the_headline_one_line_per_suite_and_the_event_json(tmp_path: Path) -> None:
    config, db = setup(tmp_path, EVERYTHING)
    event_id = new_model_event(db, WORSE)

    complete_events(db, config)

    [row] = notification_rows(db)
    assert row.title.startswith("Regression: sim:new: worse on 1 of 1 suite")
    headline, suite_line = row.body.splitlines()
    assert headline.startswith("sim:new is worse than the baseline on 1 of 1 suite")
    assert suite_line.startswith("- qa: worse (−60.0 pts, p")
    assert row.payload["event"]["id"] == event_id and row.payload["kind"] == "regression"
    assert row.payload["comparison"]["suites"][0]["paired"]["verdict"] == "worse"
    db.dispose()


def test_regression_is_an_event_with_a_significant_worse_verdict(tmp_path: Path) -> None:
    config, db = setup(tmp_path, target("regressions", ["regression"]))
    same = new_model_event(db, SAME)
    complete_events(db, config)
    assert notification_rows(db) == [], "no difference is not a regression"

    worse = new_model_event(db, WORSE)
    complete_events(db, config)

    assert [(r.event_id, r.kind) for r in notification_rows(db)] == [(worse, "regression")]
    assert same != worse
    db.dispose()


def test_new_model_targets_hear_of_every_reported_new_model(tmp_path: Path) -> None:
    config, db = setup(tmp_path, target("news", ["new_model"]))
    new_model_event(db, SAME)
    new_model_event(db, WORSE)

    complete_events(db, config)

    assert [r.kind for r in notification_rows(db)] == ["new_model", "new_model"]
    db.dispose()


def test_only_significant_holds_back_an_event_without_a_better_or_worse_verdict(tmp_path: Path) -> None:
    config, db = setup(tmp_path, target("loud", ["new_model"], only_significant=True))
    new_model_event(db, SAME)
    complete_events(db, config)
    assert notification_rows(db) == []

    worse = new_model_event(db, WORSE)
    complete_events(db, config)

    assert [(r.event_id, r.kind) for r in notification_rows(db)] == [(worse, "new_model")]
    db.dispose()


def test_skipped_targets_hear_of_a_new_model_whose_runs_were_skipped(tmp_path: Path) -> None:
    config, db = setup(tmp_path, target("budget", ["skipped"], only_significant=True))
    new_model_event(db, SAME)
    complete_events(db, config)
    assert notification_rows(db) == []

    new_model_event(db, SAME, skipped=True)
    complete_events(db, config)

    [row] = notification_rows(db)
    assert row.kind == "skipped" and row.title.startswith("Runs skipped: ")
    assert "skipped: run" in row.body and "on costly: over the daily budget" in row.body
    assert "model-monitor resume" in row.body
    db.dispose()


def drift_event(db: Database, before: list[bool], now: list[bool]) -> int:
    with db.session() as s:
        suite = add_suite(s, size=len(now))
        add_run(s, suite, "sim:base", before, trigger="baseline", finished_at=T0)
        event = add_event(
            s, "drift", "sim:base", created_at=T0 + timedelta(days=7), detail={"status": "pending"}
        )
        add_run(s, suite, "sim:base", now, event=event, trigger="drift", finished_at=T0 + timedelta(days=7))
        return event.id


def test_a_drift_check_that_found_nothing_tells_nobody(tmp_path: Path) -> None:
    config, db = setup(tmp_path, EVERYTHING)
    drift_event(db, [True] * 30 + [False] * 30, [True] * 30 + [False] * 30)

    complete_events(db, config)

    assert notification_rows(db) == []
    db.dispose()


def test_a_drift_alert_with_a_drop_is_told_as_regression_or_drift_by_filter(tmp_path: Path) -> None:
    config, db = setup(tmp_path, target("drift-only", ["drift"]) + target("regressions", ["regression"]))
    drift_event(db, [True] * 60, [True] * 30 + [False] * 30)

    complete_events(db, config)

    assert told(db) == {"drift-only": "drift", "regressions": "regression"}
    db.dispose()


def test_removed_models_notice_goes_to_retirement_targets_and_a_return_to_new_model_ones(
    tmp_path: Path,
) -> None:
    config, db = setup(tmp_path, target("retire", ["retirement"]) + target("news", ["new_model"]))
    with db.session() as s:
        add_event(s, "removed_model", "sim:old")
    complete_events(db, config)
    assert told(db) == {"retire": "retirement"}
    assert "sim:old: no longer listed" in notification_rows(db)[0].body

    with db.session() as s:
        add_event(s, "returned_model", "sim:back")
    complete_events(db, config)

    assert [r.target for r in notification_rows(db)] == ["retire", "news"]
    db.dispose()


def test_a_retirement_event_is_told_to_retirement_targets_whatever_its_verdicts(tmp_path: Path) -> None:
    config, db = setup(
        tmp_path, target("retire", ["retirement"], only_significant=True) + target("news", ["new_model"])
    )
    with db.session() as s:
        suite = add_suite(s, size=20)
        event = add_event(s, "retirement", "sim:base")
        add_run(s, suite, "sim:next", SAME, event=event, trigger="retirement")
        event_id = event.id
    with db.session() as s:
        comparison = compare_event(s, config, event_id)
        queued = enqueue_event_notifications(s, config, event_id, comparison, None)

    assert queued == 1
    assert told(db) == {"retire": "retirement"}
    assert notification_rows(db)[0].title.startswith("Retirement: ")
    db.dispose()


def test_the_report_link_is_base_url_plus_the_report_path(tmp_path: Path) -> None:
    extra = '\n[reports]\nbase_url = "https://reports.example.com/monitor/"\n' + EVERYTHING
    config, db = setup(tmp_path, extra)
    new_model_event(db, SAME)

    complete_events(db, config)

    [row] = notification_rows(db)
    [report] = list((tmp_path / "reports" / "events").glob("*.html"))
    link = f"https://reports.example.com/monitor/events/{report.name}"
    assert row.body.splitlines()[-1] == f"Report: {link}"
    assert row.payload["report_url"] == link
    db.dispose()


def test_without_base_url_the_text_has_no_link(tmp_path: Path) -> None:
    config, db = setup(tmp_path, EVERYTHING)
    new_model_event(db, SAME)

    complete_events(db, config)

    [row] = notification_rows(db)
    assert "Report:" not in row.body and row.payload["report_url"] is None
    db.dispose()


@pytest.mark.parametrize("kind", ["new_model", "drift"])
def test_an_event_nobody_asked_for_queues_nothing(tmp_path: Path, kind: str) -> None:
    config, db = setup(tmp_path, target("retire", ["retirement"]))
    if kind == "new_model":
        new_model_event(db, WORSE)
    else:
        drift_event(db, [True] * 60, [True] * 30 + [False] * 30)

    complete_events(db, config)

    assert notification_rows(db) == []
    with db.session() as s:
        assert all(e.reported_at is not None for e in s.scalars(select(Event)))
    db.dispose()
