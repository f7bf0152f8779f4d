"""The event's report step does each piece of work once: one repricing, one read of each run's results."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select, update

from monitor.core.config import Config
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.report.write import write_event_report, write_index, write_run_report
from monitor.store.db import Database
from monitor.store.tables import Report, Result
from tests.factories import T0, add_event, add_run, add_suite, make_config

# A read of a run's results: the statistics' and the rows' queries select the score; counting errors does not.
RESULTS_READ = re.compile(r"SELECT .*results\.score.*\sFROM results\s+WHERE results\.run_id", re.DOTALL)
REPRICING = re.compile(r"FROM results .*price_source LIKE", re.DOTALL)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the database runs inside the block."""
    seen: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def new_model_event(db: Database, suites: int = 2) -> tuple[int, list[int]]:
    """A new-model event with a candidate and a baseline run on each suite; (event id, run ids)."""
    with db.session() as s:
        found = add_event(s, "new_model", "sim:cand", created_at=T0)
        run_ids = []
        for n in range(suites):
            suite = add_suite(s, f"suite{n}", "v1", 10)
            when = T0 + timedelta(minutes=10 + n)
            for key, outcomes in (
                ("sim:cand", [True] * 6 + [False] * 4),
                ("sim:base", [True] * 8 + [False] * 2),
            ):
                run = add_run(s, suite, key, outcomes, event=found, trigger="new_model", finished_at=when)
                run_ids.append(run.id)
        return found.id, run_ids


def report_step(db: Database, config: Config, event_id: int) -> None:
    """What completing an event does after comparing: the event's reports, then the index."""
    with db.session() as session:
        comparison = compare_event(session, config, event_id)
    write_event_report(db, config, event_id, comparison=comparison)
    write_index(db, config, repriced=True)


def run_pages(db: Database, config: Config, run_ids: list[int]) -> dict[int, bytes]:
    """Each run report's bytes as they are on disk now."""
    with db.session() as session:
        paths = {r.run_ids[0]: r.path for r in session.scalars(select(Report).where(Report.kind == "run"))}
    return {run_id: (config.reports_dir / paths[run_id]).read_bytes() for run_id in run_ids}


def test_the_report_step_reads_each_runs_results_once(db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path)
    event_id, run_ids = new_model_event(db)
    with db.session() as session:
        comparison = compare_event(session, config, event_id)
    with statements(db) as seen:
        write_event_report(db, config, event_id, comparison=comparison)
        write_index(db, config, repriced=True)
    assert len([sql for sql in seen if RESULTS_READ.search(sql)]) == len(run_ids)


def test_the_report_step_reprices_the_events_runs_once(db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path)
    event_id, _ = new_model_event(db)
    with db.session() as session:
        comparison = compare_event(session, config, event_id)
    with statements(db) as seen:
        write_event_report(db, config, event_id, comparison=comparison)
        write_index(db, config, repriced=True)
    assert len([sql for sql in seen if REPRICING.search(sql)]) == 1


def test_run_reports_from_the_comparisons_statistics_match_ones_written_alone(
    db: Database, tmp_path: Path
) -> None:
    config = make_config(tmp_path)
    event_id, run_ids = new_model_event(db)
    report_step(db, config, event_id)
    handed_over = run_pages(db, config, run_ids)
    for run_id in run_ids:
        write_run_report(db, config, run_id).unlink()
        write_run_report(db, config, run_id)
    assert run_pages(db, config, run_ids) == handed_over


def test_a_comparison_from_before_a_repricing_does_not_stand_for_the_new_costs(
    db: Database, tmp_path: Path
) -> None:
    unpriced = make_config(tmp_path)
    event_id, run_ids = new_model_event(db, suites=1)
    bound = unpriced.price_for("sim:cand").source
    with db.session() as session:
        session.execute(update(Result).where(Result.run_id == run_ids[0]).values(price_source=bound))
        stale = compare_event(session, unpriced, event_id)
    assert stale.suites[0].candidate.cost_estimated
    priced = make_config(tmp_path, extra='\n[pricing."sim:cand"]\ninput = 1\noutput = 2\n')
    write_event_report(db, priced, event_id, comparison=stale)
    html = run_pages(db, priced, run_ids[:1])[run_ids[0]].decode("utf-8")
    assert "prices: config" in html and "at most $" not in html
