"""The migration report: each candidate against the retiring model, one recommendation, reported once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config
from monitor.pipeline.compare.migration import RULE_BEST, RULE_CHEAPEST, RULE_NONE, compare_migration
from monitor.pipeline.complete import complete_events
from monitor.store.db import Database, open_database
from monitor.store.tables import Event, OutboxMessage, Report
from tests.event_helpers import EMAIL, config_on
from tests.factories import add_event, add_run, add_suite

OLD = [True] * 28 + [False] * 12
BETTER = [True] * 40
SAME = list(OLD)
WORSE = [True] * 16 + [False] * 24
MUCH_WORSE = [True] * 4 + [False] * 36


@pytest.fixture
def config(tmp_path: Path, any_db_url: str) -> Config:
    return config_on(tmp_path, any_db_url, baseline="sim:old", extra=EMAIL)


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    database = open_database(config.database_url)
    yield database
    database.dispose()


def retirement(db: Database, candidates: dict[str, tuple[list[bool], float]], *, status: str = "done") -> int:
    """A retirement event of sim:old with its run and one run per candidate (outcomes, cost per sample)."""
    with db.session() as s:
        suites = [add_suite(s, "qa", size=40), add_suite(s, "tools", size=40)]
        detail = {
            "date": "2027-01-30",
            "source": "config",
            "detail": "[retirements] sim:old",
            "candidates": list(candidates),
            "candidates_from": "config",
            "notes": [],
        }
        event = add_event(s, "retirement", "sim:old", detail=detail)
        for suite in suites:
            add_run(s, suite, "sim:old", OLD, event=event, trigger="retirement", cost_per_sample=0.002)
            for name, (outcomes, cost) in candidates.items():
                add_run(
                    s,
                    suite,
                    name,
                    outcomes,
                    event=event,
                    trigger="retirement",
                    cost_per_sample=cost,
                    status=status,
                )
        return event.id


def test_each_candidate_is_compared_with_the_retiring_model_on_every_suite(
    config: Config, db: Database
) -> None:
    event_id = retirement(db, {"sim:a": (BETTER, 0.004), "sim:b": (SAME, 0.0005), "sim:c": (WORSE, 0.0001)})
    with db.session() as s:
        migration = compare_migration(s, config, event_id)
    by_model = {c.model: c for c in migration.candidates}
    assert list(by_model) == ["sim:a", "sim:b", "sim:c"]
    for result in by_model.values():
        assert result.comparison.baselines == ["sim:old"]
        assert [s.suite for s in result.comparison.suites] == ["qa", "tools"]
        assert all(
            s.baseline is not None and s.baseline.model_key == "sim:old" for s in result.comparison.suites
        )
    assert {s.paired.verdict for s in by_model["sim:a"].comparison.suites if s.paired} == {"better"}
    assert {s.paired.verdict for s in by_model["sim:c"].comparison.suites if s.paired} == {"worse"}
    assert by_model["sim:c"].worse == 2 and by_model["sim:b"].worse == 0
    assert by_model["sim:b"].cost_per_1k == pytest.approx(2 * 0.0005 * 1000)
    assert by_model["sim:b"].retiring_cost_per_1k == pytest.approx(2 * 0.002 * 1000)
    assert by_model["sim:a"].latency_p50_ms is not None


def test_the_cheapest_candidate_with_no_worse_verdict_is_recommended(config: Config, db: Database) -> None:
    event_id = retirement(db, {"sim:a": (BETTER, 0.004), "sim:b": (SAME, 0.0005), "sim:c": (WORSE, 0.0001)})
    with db.session() as s:
        migration = compare_migration(s, config, event_id)
    assert (migration.recommended, migration.rule) == ("sim:b", RULE_CHEAPEST)


def test_when_every_candidate_is_worse_the_best_scoring_is_recommended(config: Config, db: Database) -> None:
    event_id = retirement(db, {"sim:far": (MUCH_WORSE, 0.0001), "sim:near": (WORSE, 0.003)})
    with db.session() as s:
        migration = compare_migration(s, config, event_id)
    assert (migration.recommended, migration.rule) == ("sim:near", RULE_BEST)


def test_without_a_finished_candidate_there_is_no_recommendation(config: Config, db: Database) -> None:
    event_id = retirement(db, {"sim:a": (BETTER, 0.004)}, status="failed")
    with db.session() as s:
        migration = compare_migration(s, config, event_id)
    assert (migration.recommended, migration.rule) == (None, RULE_NONE)
    assert RULE_NONE in migration.headline


def test_a_finished_retirement_event_is_reported_and_mailed_once(config: Config, db: Database) -> None:
    event_id = retirement(db, {"sim:a": (BETTER, 0.004), "sim:b": (SAME, 0.0005)})
    assert complete_events(db, config) == [event_id]
    assert complete_events(db, config) == []
    with db.session() as s:
        mails = list(s.scalars(select(OutboxMessage)))
        event = s.get(Event, event_id)
        assert event is not None and event.reported_at is not None
        assert event.detail["recommendation"]["model"] == "sim:b"
        assert event.detail["recommendation"]["rule"] == RULE_CHEAPEST
        report = s.scalars(select(Report).where(Report.event_id == event_id, Report.kind == "event")).one()
    assert [m.subject for m in mails] == ["[model-monitor] retiring sim:old on 2027-01-30: try sim:b"]
    assert "sim:a" in mails[0].message and "cheapest candidate with no worse verdict" in mails[0].message
    page = (config.reports_dir / report.path).read_text()
    assert "sim:old" in page and "sim:a" in page and "sim:b" in page and "recommended" in page


def test_a_retirement_event_waits_while_a_candidate_still_runs(config: Config, db: Database) -> None:
    retirement(db, {"sim:a": (BETTER, 0.004)}, status="running")
    assert complete_events(db, config) == []
