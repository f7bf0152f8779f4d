"""Storage: migrations up and down on SQLite and PostgreSQL, typed round trips, SQLite safety pragmas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from monitor.store.db import current_revision, downgrade, head_revision, make_engine, open_database, upgrade
from monitor.store.tables import Event, Model, Result, Run, Sample, Suite


def test_migrations_go_up_from_empty_and_down_to_base(any_db_url):
    engine = make_engine(any_db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"models", "runs", "results", "suites", "samples", "outbox", "events", "leases"} <= tables
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_upgrade_is_idempotent(any_db_url):
    engine = make_engine(any_db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_model_round_trip_keeps_json_and_aware_timestamps(any_db):
    created = datetime(2025, 9, 29, 12, 30, tzinfo=UTC)
    with any_db.session() as s:
        s.add(Model(provider="openai", model_id="gpt-5", created_at=created, raw={"owned_by": "system"}))
    with any_db.session() as s:
        model = s.scalars(select(Model)).one()
        assert model.key == "openai:gpt-5"
        assert model.created_at == created
        assert model.first_seen.tzinfo is not None
        assert model.raw == {"owned_by": "system"}
        assert model.removed_at is None


def test_a_result_cannot_be_written_twice_for_the_same_sample_and_repeat(any_db):
    with any_db.session() as s:
        suite = Suite(name="arithmetic", version="abc", sample_count=1)
        s.add(suite)
        s.flush()
        s.add(Sample(suite_id=suite.id, key="s1", position=0, messages=[], target="4"))
        run = Run(provider="openai", model_id="gpt-5", suite_id=suite.id, trigger="manual")
        s.add(run)
        s.flush()
        s.add(Result(run_id=run.id, sample_key="s1", repeat=0, prompt_hash="h", score=1.0, passed=True))
    with pytest.raises(IntegrityError), any_db.session() as s:
        s.add(Result(run_id=run.id, sample_key="s1", repeat=0, prompt_hash="h", score=0.0, passed=False))


def test_foreign_keys_are_enforced(any_db):
    with pytest.raises(IntegrityError), any_db.session() as s:
        s.add(Run(provider="openai", model_id="gpt-5", suite_id=999, trigger="manual", event_id=12345))
        s.flush()


def test_event_runs_relationship(any_db):
    with any_db.session() as s:
        suite = Suite(name="support", version="v1", sample_count=0)
        event = Event(kind="new_model", provider="sim", model_id="gpt-sim-next")
        s.add_all([suite, event])
        s.flush()
        s.add(
            Run(
                provider="sim",
                model_id="gpt-sim-next",
                suite_id=suite.id,
                trigger="new_model",
                event_id=event.id,
            )
        )
    with any_db.session() as s:
        event = s.scalars(select(Event)).one()
        assert [r.status for r in event.runs] == ["queued"]


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'm.db'}")
    with database.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    database.dispose()
