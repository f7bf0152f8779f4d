"""Completing events: each finished event is reported and mailed exactly once; drift checks and alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.core.config import Config
from monitor.pipeline.complete import complete_events, drift_targets, start_drift_check
from monitor.store.db import Database, open_database
from monitor.store.tables import Event, OutboxMessage, Run
from tests.daemon_support import write_suite
from tests.event_helpers import EMAIL, config_on, race
from tests.factories import T0, add_event, add_run, add_suite, make_config


@pytest.fixture
def config(tmp_path: Path, any_db_url: str) -> Config:
    """The simulated-provider config with e-mail, on SQLite and on PostgreSQL."""
    return config_on(tmp_path, any_db_url, extra=EMAIL)


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    database = open_database(config.database_url)
    yield database
    database.dispose()


def finished_new_model_event(db: Database, *, status: str = "done") -> int:
    with db.session() as s:
        suite = add_suite(s, size=20)
        event = add_event(s, "new_model", "sim:new")
        add_run(
            s, suite, "sim:new", [True] * 18 + [False] * 2, event=event, trigger="new_model", status=status
        )
        add_run(s, suite, "sim:base", [True] * 10 + [False] * 10, event=event, trigger="baseline")
        return event.id


def outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_finished_new_model_event_is_reported_and_mailed_once(
    database: Database, config: Config, tmp_path: Path
) -> None:
    event_id = finished_new_model_event(database)

    assert complete_events(database, config) == [event_id]
    assert complete_events(database, config) == []

    mails = outbox(database)
    assert [(m.dedupe_key, m.event_id) for m in mails] == [(f"event:{event_id}", event_id)]
    assert "sim:new" in mails[0].subject
    with database.session() as s:
        event = s.get(Event, event_id)
        assert event is not None and event.reported_at is not None
    assert (tmp_path / "reports" / "index.html").is_file()
    assert len(list((tmp_path / "reports" / "events").glob("*.html"))) == 1


def test_reporting_an_event_compares_its_runs_once_for_the_report_and_the_mail(
    database: Database, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.pipeline.compare import events

    calls: list[int] = []
    compare = events.compare_event

    def counted(session: Any, config: Config, event_id: int) -> Any:
        calls.append(event_id)
        return compare(session, config, event_id)

    monkeypatch.setattr(events, "compare_event", counted)
    monkeypatch.setattr("monitor.pipeline.report.queries.compare_event", counted)
    event_id = finished_new_model_event(database)

    assert complete_events(database, config) == [event_id]
    assert calls == [event_id]


def test_event_with_a_run_still_running_is_not_reported_yet(database: Database, config: Config) -> None:
    finished_new_model_event(database, status="running")

    assert complete_events(database, config) == []
    assert outbox(database) == []


def test_racing_processes_report_an_event_once(config: Config) -> None:
    setup = open_database(config.database_url)
    event_id = finished_new_model_event(setup)
    reported: list[int] = []

    race(config, 4, lambda own: reported.extend(complete_events(own, config)))

    assert reported == [event_id]
    assert len(outbox(setup)) == 1
    setup.dispose()


def test_event_is_reported_without_mail_when_email_is_not_configured(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    db = open_database(config.database_url)
    event_id = finished_new_model_event(db)

    assert complete_events(db, config) == [event_id]
    assert outbox(db) == []
    db.dispose()


def test_removed_returned_and_deprecated_models_are_announced_in_one_notice(
    database: Database, config: Config
) -> None:
    with database.session() as s:
        ids = [
            add_event(s, "removed_model", "sim:old-a").id,
            add_event(s, "removed_model", "sim:old-b").id,
            add_event(s, "returned_model", "sim:back").id,
            add_event(
                s,
                "deprecation_changed",
                "sim:aging",
                detail={"changes": {"shutdown_date": [None, "2026-06-01"]}},
            ).id,
        ]

    assert complete_events(database, config) == ids
    assert complete_events(database, config) == []

    mails = outbox(database)
    assert len(mails) == 1
    assert mails[0].subject.endswith("models: 2 removed, 1 listed again, 1 deprecation notice")
    for text in ("sim:old-a", "sim:old-b", "sim:back", "sim:aging", "shutdown_date: None -> 2026-06-01"):
        assert text in mails[0].message


def drift_event(
    db: Database,
    before: list[bool | None],
    now: list[bool | None],
    *,
    fingerprints: tuple[str | None, str | None] = (None, None),
) -> int:
    """A done drift run of sim:base and its previous done run on the same suite version."""
    with db.session() as s:
        suite = add_suite(s, size=len(now))
        previous = add_run(s, suite, "sim:base", before, trigger="baseline", finished_at=T0)
        event = add_event(
            s, "drift", "sim:base", created_at=T0 + timedelta(days=7), detail={"status": "pending"}
        )
        current = add_run(
            s, suite, "sim:base", now, event=event, trigger="drift", finished_at=T0 + timedelta(days=7)
        )
        previous.system_fingerprint, current.system_fingerprint = fingerprints
        return event.id


def drift_status(db: Database, event_id: int) -> dict[str, object]:
    with db.session() as s:
        event = s.get(Event, event_id)
        assert event is not None and event.reported_at is not None
        return dict(event.detail)


def test_drift_with_a_significant_drop_sends_an_alert(database: Database, config: Config) -> None:
    event_id = drift_event(database, [True] * 60, [True] * 30 + [False] * 30)

    assert complete_events(database, config) == [event_id]

    detail = drift_status(database, event_id)
    assert detail["status"] == "changed"
    assert any("worse" in str(f) for f in detail["findings"])  # type: ignore[attr-defined]
    mails = outbox(database)
    assert len(mails) == 1 and "drift" in mails[0].subject


def test_drift_with_a_changed_system_fingerprint_alerts_even_when_scores_match(
    database: Database, config: Config
) -> None:
    outcomes: list[bool | None] = [True] * 15 + [False] * 5
    event_id = drift_event(database, outcomes, outcomes, fingerprints=("fp_old", "fp_new"))

    assert complete_events(database, config) == [event_id]

    detail = drift_status(database, event_id)
    assert detail["status"] == "changed"
    assert detail["findings"] == ["system_fingerprint fp_old -> fp_new"]
    assert len(outbox(database)) == 1


def test_drift_without_a_change_is_recorded_without_mail(database: Database, config: Config) -> None:
    outcomes: list[bool | None] = [True] * 15 + [False] * 5
    event_id = drift_event(database, outcomes, outcomes, fingerprints=("fp_same", "fp_same"))

    assert complete_events(database, config) == [event_id]

    assert drift_status(database, event_id) == {"status": "unchanged", "findings": []}
    assert outbox(database) == []


def test_drift_targets_are_the_baselines_and_every_watched_alias(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        extra='[baseline.suites]\nsupport = "sim:support-model"\n[schedule]\nwatch = ["sim:alias"]\n',
    )
    assert drift_targets(config) == {"sim:base": None, "sim:support-model": ["support"], "sim:alias": None}


def test_drift_check_queues_a_drift_run_per_suite_and_model_once(tmp_path: Path) -> None:
    write_suite(tmp_path / "evals", "sums", 3)
    write_suite(tmp_path / "evals", "more", 2)
    config = make_config(tmp_path, extra='[schedule]\nwatch = ["sim:alias"]\n')
    db = open_database(config.database_url)

    started = start_drift_check(db, config)

    with db.session() as s:
        events = list(s.scalars(select(Event).order_by(Event.id)))
        runs = list(s.scalars(select(Run).order_by(Run.id)))
        assert [(e.kind, e.model_key) for e in events] == [("drift", "sim:base"), ("drift", "sim:alias")]
        assert started == [e.id for e in events]
        assert sorted((r.model_key, r.suite.name, r.trigger, r.status) for r in runs) == sorted(
            (m, suite, "drift", "queued") for m in ("sim:base", "sim:alias") for suite in ("sums", "more")
        )
    assert start_drift_check(db, config) == [], "a check still running is not started twice"
    db.dispose()
