"""`model-monitor db copy --to URL`: every row moves to the new database, verified, or nothing does."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from monitor.cli import main
from monitor.store.db import Database, open_database
from monitor.store.tables import Event, Model, OutboxMessage, Result, Run, Sample, Suite
from tests.conftest import PG_ENV, _fresh_pg_database


def history(db: Database, runs: int = 3) -> None:
    """A small but complete history: models, an event, a suite with samples, runs, results, an e-mail."""
    with db.session() as session:
        session.add(Model(provider="openai", model_id="gpt-x", raw={"id": "gpt-x", "nested": [1, 2.5]}))
        event = Event(kind="new_model", provider="openai", model_id="gpt-x")
        suite = Suite(name="qa", version="v1", sample_count=2, definition={"graders": [{"type": "exact"}]})
        session.add_all([event, suite])
        session.flush()
        for key in ("a", "b"):
            session.add(
                Sample(suite_id=suite.id, key=key, position=0, messages=[{"role": "user", "content": key}])
            )
        for n in range(runs):
            run = Run(
                provider="openai", model_id="gpt-x", suite_id=suite.id, trigger="manual", status="completed"
            )
            session.add(run)
            session.flush()
            for key in ("a", "b"):
                session.add(
                    Result(
                        run_id=run.id,
                        sample_key=key,
                        prompt_hash="h",
                        output=f"answer {n}\x00 with a NUL",
                        score=0.1 * n,
                        passed=True,
                        grades=[{"grader": "exact", "score": 1.0}],
                        tool_calls=[{"id": "c1", "name": "f", "arguments": "{}"}],
                    )
                )
        session.add(
            OutboxMessage(dedupe_key="e1", subject="s", sender="a@x", recipients=["b@x"], message="m")
        )
        session.commit()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Path]:
    """A workspace whose SQLite database holds a history."""
    CliRunner().invoke(main, ["init", str(tmp_path / "ws")])
    database = open_database(f"sqlite:///{tmp_path / 'ws' / 'monitor.db'}")
    history(database)
    database.dispose()
    yield tmp_path / "ws" / "monitor.toml"


@pytest.fixture
def pg_target() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return _fresh_pg_database(base, f"mm_copy_{worker}")


def copy(config: Path, target: str, *extra: str) -> object:
    return CliRunner().invoke(main, ["--config", str(config), "db", "copy", "--to", target, *extra])


def counts(url: str) -> dict[str, int]:
    database = open_database(url, migrate=False)
    try:
        with database.session() as session:
            return {
                t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
                for t in (Model, Event, Suite, Sample, Run, Result, OutboxMessage)
            }
    finally:
        database.dispose()


def test_sqlite_history_is_copied_to_postgresql_with_counts_and_checksums(
    source: Path, pg_target: str
) -> None:
    result = copy(source, pg_target, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {t["table"]: t["rows"] for t in report["tables"]}
    assert rows["results"] == 6 and rows["runs"] == 3 and rows["outbox"] == 1
    assert counts(pg_target) == {
        "models": 1,
        "events": 1,
        "suites": 1,
        "samples": 2,
        "runs": 3,
        "results": 6,
        "outbox": 1,
    }


def test_copied_text_keeps_everything_postgresql_can_store(source: Path, pg_target: str) -> None:
    copy(source, pg_target)
    database = open_database(pg_target, migrate=False)
    with database.session() as session:
        outputs = sorted(session.scalars(select(Result.output)))
        calls = session.scalars(select(Result.tool_calls)).first()
    database.dispose()
    assert outputs[0] == "answer 0 with a NUL"
    assert calls == [{"id": "c1", "name": "f", "arguments": "{}"}]


def test_new_rows_in_the_copy_get_fresh_ids(source: Path, pg_target: str) -> None:
    copy(source, pg_target)
    database = open_database(pg_target, migrate=False)
    with database.session() as session:
        suite_id = session.scalar(select(Suite.id))
        run = Run(provider="openai", model_id="gpt-y", suite_id=suite_id, trigger="manual")
        session.add(run)
        session.commit()
        assert run.id == 4
    database.dispose()


def test_a_non_empty_target_is_refused_and_left_as_it_was(source: Path, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'other.db'}"
    history(open_database(target), runs=1)
    result = copy(source, target)
    assert result.exit_code == 2
    assert "the target database is not empty" in result.output
    assert counts(target)["runs"] == 1


def test_a_copy_to_another_sqlite_file_works_too(source: Path, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert copy(source, target).exit_code == 0
    assert counts(target)["results"] == 6


def test_the_configured_database_itself_is_refused(source: Path) -> None:
    result = copy(source, f"sqlite:///{source.parent / 'monitor.db'}")
    assert result.exit_code == 2
    assert "the configured database itself" in result.output


def test_a_password_in_the_target_url_is_never_printed(source: Path, tmp_path: Path) -> None:
    result = copy(source, "postgresql+psycopg://user:s3cret-pw@127.0.0.1:1/none")
    assert "s3cret-pw" not in result.output
    assert result.exit_code != 0
