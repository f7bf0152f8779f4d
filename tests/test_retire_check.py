"""The retirement check: the notice window, one event per model, and the replacement runs it plans."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config, load_config
from monitor.evals.loader import load_suites
from monitor.evals.register import register_suite
from monitor.pipeline.poll.family import family, newer_in_family
from monitor.service.retirements import check_retirements
from monitor.store.db import Database, open_database
from monitor.store.tables import Event, Model, Run
from tests.daemon_support import write_suite
from tests.event_helpers import race
from tests.factories import add_run

RETIRING = "gpt-sim-2025-01-01"
DATE = dt.date(2027, 1, 30)


def make(tmp_path: Path, db_url: str, extra: str = "", baseline: str = f"sim:{RETIRING}") -> Config:
    write_suite(tmp_path / "evals", "sums", 4)
    write_suite(tmp_path / "evals", "more-sums", 3)
    path = tmp_path / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "{db_url}"

            [providers.sim]
            type = "openai-compatible"
            base_url = "http://127.0.0.1:9/v1"

            [suites]
            directory = "evals"

            [baseline]
            default = "{baseline}"
            """
        )
        + textwrap.dedent(extra)
    )
    return load_config(path)


def dated(extra: str = "") -> str:
    return f'[retirements]\n"sim:{RETIRING}" = {DATE.isoformat()}\n' + extra


def add_models(db: Database, *ids_and_created: tuple[str, dt.datetime | None]) -> None:
    with db.session() as s:
        for model_id, created in ids_and_created:
            s.add(Model(provider="sim", model_id=model_id, created_at=created, raw={}))


def day(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=dt.UTC)


LINEUP = (
    (RETIRING, day(2025, 1, 1)),
    ("gpt-sim-2024-06-01", day(2024, 6, 1)),  # older: never a replacement
    ("gpt-sim-2025-06-01", day(2025, 6, 1)),
    ("gpt-sim-2025-09-01", day(2025, 9, 1)),
    ("gpt-sim-2026-01-01", day(2026, 1, 1)),
    ("gpt-sim-2026-03-01", day(2026, 3, 1)),
    ("gpt-sim-mini-2026-05-01", day(2026, 5, 1)),  # another family
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield database
    database.dispose()


def retirement_events(db: Database) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.kind == "retirement")))


def queued(db: Database) -> set[tuple[str, str, str]]:
    with db.session() as s:
        return {
            (r.model_id, r.suite.name, r.trigger)
            for r in s.scalars(select(Run).where(Run.status == "queued"))
        }


@pytest.mark.parametrize(("days_before", "opened"), [(59, 1), (60, 1), (61, 0)])
def test_a_baseline_is_noticed_only_within_the_notice_window(
    tmp_path: Path, db: Database, days_before: int, opened: int
) -> None:
    config = make(tmp_path, str(db.engine.url), dated())
    add_models(db, *LINEUP)
    check = check_retirements(db, config, today=DATE - dt.timedelta(days=days_before))
    assert len(check.events) == opened == len(retirement_events(db))


def test_a_second_check_opens_no_second_event(tmp_path: Path, db: Database) -> None:
    config = make(tmp_path, str(db.engine.url), dated())
    add_models(db, *LINEUP)
    first = check_retirements(db, config, today=DATE - dt.timedelta(days=30))
    again = check_retirements(db, config, today=DATE - dt.timedelta(days=10))
    assert len(first.events) == 1 and again.events == [] and again.queued_runs == 0


def test_two_leaders_checking_at_once_open_one_event_and_queue_its_runs_once(
    tmp_path: Path, any_db_url: str
) -> None:
    config = make(tmp_path, any_db_url, dated())
    setup = open_database(config.database_url)
    add_models(setup, *LINEUP)
    today = DATE - dt.timedelta(days=20)
    opened: list[int] = []

    race(config, 2, lambda own: opened.extend(check_retirements(own, config, today=today).events))

    assert len(opened) == 1 and len(retirement_events(setup)) == 1
    assert len(queued(setup)) == 4 * 2  # three family candidates and the retiring model, two suites each
    setup.dispose()


def test_the_newest_three_of_the_family_are_evaluated_with_the_retiring_model(
    tmp_path: Path, db: Database
) -> None:
    config = make(tmp_path, str(db.engine.url), dated())
    add_models(db, *LINEUP)
    check_retirements(db, config, today=DATE - dt.timedelta(days=45))
    [event] = retirement_events(db)
    assert event.detail["candidates"] == [
        "sim:gpt-sim-2026-03-01",
        "sim:gpt-sim-2026-01-01",
        "sim:gpt-sim-2025-09-01",
    ]
    assert event.detail["candidates_from"] == "newer models of the same family"
    assert (event.detail["date"], event.detail["source"], event.detail["days_left"]) == (
        "2027-01-30",
        "config",
        45,
    )
    models = {m for m, _suite, _trigger in queued(db)}
    assert models == {RETIRING, "gpt-sim-2026-03-01", "gpt-sim-2026-01-01", "gpt-sim-2025-09-01"}
    assert {trigger for _m, _s, trigger in queued(db)} == {"retirement"}


def test_configured_replacements_are_evaluated_instead_of_the_family(tmp_path: Path, db: Database) -> None:
    table = f'{{ date = {DATE.isoformat()}, replacements = ["sim:other-model"] }}'
    extra = f'[retirements]\n"sim:{RETIRING}" = {table}\n'
    config = make(tmp_path, str(db.engine.url), extra)
    add_models(db, *LINEUP)
    check_retirements(db, config, today=DATE - dt.timedelta(days=5))
    [event] = retirement_events(db)
    assert (event.detail["candidates"], event.detail["candidates_from"]) == (["sim:other-model"], "config")
    assert {m for m, _s, _t in queued(db)} == {RETIRING, "other-model"}


def finished_runs_of_the_retiring_model(config: Config, db: Database, finished_at: dt.datetime) -> None:
    with db.session() as s:
        for spec in load_suites(config.suites_dir):
            add_run(s, register_suite(s, spec), f"sim:{RETIRING}", [True], finished_at=finished_at)


@pytest.mark.parametrize(("age_days", "rerun"), [(5, False), (40, True)])
def test_the_retiring_model_is_run_again_only_without_a_recent_run(
    tmp_path: Path, db: Database, age_days: int, rerun: bool
) -> None:
    config = make(tmp_path, str(db.engine.url), dated())
    add_models(db, *LINEUP)
    finished_runs_of_the_retiring_model(config, db, dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days))
    check_retirements(db, config, today=DATE - dt.timedelta(days=50))
    assert (RETIRING in {m for m, _s, _t in queued(db)}) is rerun


def test_a_model_past_its_date_is_not_run_but_its_replacements_are(tmp_path: Path, db: Database) -> None:
    config = make(tmp_path, str(db.engine.url), dated())
    add_models(db, *LINEUP)
    check = check_retirements(db, config, today=DATE + dt.timedelta(days=3))
    assert len(check.events) == 1
    assert RETIRING not in {m for m, _s, _t in queued(db)}
    assert retirement_events(db)[0].detail["days_left"] == -3


def test_a_watched_model_is_checked_like_a_baseline(tmp_path: Path, db: Database) -> None:
    extra = f'[schedule]\nwatch = ["sim:{RETIRING}"]\n' + dated()
    config = make(tmp_path, str(db.engine.url), extra, baseline="sim:gpt-sim-2026-03-01")
    add_models(db, *LINEUP)
    assert len(check_retirements(db, config, today=DATE - dt.timedelta(days=1)).events) == 1


def test_a_listing_date_in_the_models_table_opens_the_event(tmp_path: Path, db: Database) -> None:
    config = make(tmp_path, str(db.engine.url))
    add_models(db, *LINEUP)
    with db.session() as s:
        row = s.scalars(select(Model).where(Model.model_id == RETIRING)).one()
        row.raw = {"expiration_date": "2027-01-30"}
    check_retirements(db, config, today=DATE - dt.timedelta(days=10))
    [event] = retirement_events(db)
    assert (event.detail["source"], event.detail["date"]) == ("provider", "2027-01-30")


def test_a_model_without_a_date_is_never_noticed(tmp_path: Path, db: Database) -> None:
    config = make(tmp_path, str(db.engine.url))
    add_models(db, *LINEUP)
    assert check_retirements(db, config, today=DATE).events == []


def test_family_strips_dates_stages_and_versions() -> None:
    assert family("gpt-4.1-mini-2025-04-14") == family("gpt-5-mini") == "gpt-#-mini"
    assert family("claude-sonnet-4-20250514") == family("claude-sonnet-4-5") == "claude-sonnet-#"
    assert family("gemini-2.5-flash") == family("gemini-3-flash-preview") == "gemini-#-flash"
    assert family("gemini-2.5-flash-lite") != family("gemini-2.5-flash")


def test_only_listed_newer_siblings_are_candidates(db: Database) -> None:
    add_models(db, *LINEUP)
    with db.session() as s:
        s.scalars(select(Model).where(Model.model_id == "gpt-sim-2026-03-01")).one().removed_at = day(
            2026, 6, 1
        )
    with db.session() as s:
        assert newer_in_family(s, "sim", RETIRING) == [
            "gpt-sim-2026-01-01",
            "gpt-sim-2025-09-01",
            "gpt-sim-2025-06-01",
        ]


def test_a_broken_retirements_file_is_reported_and_opens_nothing(tmp_path: Path, db: Database) -> None:
    config = make(tmp_path, str(db.engine.url), dated())
    add_models(db, *LINEUP)
    (tmp_path / "retirements.toml").write_text("updated = 2027-01-02\n[[retirement]]\nprovider = 'openai'\n")
    check = check_retirements(db, config, today=DATE)
    assert check.events == [] and len(check.errors) == 1
    assert "retirements.toml" in check.errors[0] and "model must be" in check.errors[0]


def test_the_replacement_the_providers_list_names_is_evaluated_mistral_style(
    tmp_path: Path, db: Database
) -> None:
    config = make(tmp_path, str(db.engine.url))
    add_models(db, *[(m, c) for m, c in LINEUP if m != RETIRING], ("next-large", day(2026, 6, 1)))
    with db.session() as s:
        s.add(
            Model(
                provider="sim",
                model_id=RETIRING,
                created_at=day(2025, 1, 1),
                raw={
                    "deprecation": f"{DATE.isoformat()}T12:00:00Z",
                    "deprecation_replacement_model": "next-large",
                },
            )
        )
    check_retirements(db, config, today=DATE - dt.timedelta(days=5))
    [event] = retirement_events(db)
    assert event.detail["candidates"] == ["sim:next-large"]
    assert event.detail["candidates_from"] == "the provider's model list"
    assert {m for m, _s, _t in queued(db)} == {RETIRING, "next-large"}
