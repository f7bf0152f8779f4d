"""Write the HTML reports into the reports directory and record each one in the `reports` table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitor.pipeline.report.board_stats import remember
from monitor.pipeline.report.files import directory_error, inside, write_atomic
from monitor.pipeline.report.migration import build_migration_report, render_migration_report
from monitor.pipeline.report.queries import (
    REPORTABLE_STATUSES,
    build_event_report,
    build_index,
    build_run_report,
)
from monitor.pipeline.report.render import render_event_report, render_index, render_run_report
from monitor.providers.spending import reprice
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Event, Report, Run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.pipeline.compare.migration import Migration
    from monitor.pipeline.compare.runs import RunStats
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.store.db import Database


# Runs whose results no longer change: the comparison's statistics of them stand for the run report's.
SETTLED = (*COMPLETED, "failed")


def _record(session: Session, kind: str, path: str, event_id: int | None, run_ids: list[int]) -> None:
    """Get-or-create the `reports` row for `path` (relative to the reports directory)."""
    row = session.scalars(select(Report).where(Report.path == path)).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(Report(kind=kind, path=path, event_id=event_id, run_ids=run_ids))
        except IntegrityError:
            row = session.scalars(select(Report).where(Report.path == path)).one()
    if row is not None and (row.kind, row.event_id, row.run_ids) != (kind, event_id, run_ids):
        row.kind, row.event_id, row.run_ids = kind, event_id, run_ids


def _write(config: Config, relative: str, html: str) -> Path:
    """Write one report; a directory that cannot be written is a MonitorError naming it, not a traceback."""
    path = inside(config.reports_dir, relative)
    try:
        write_atomic(path, html.encode("utf-8"))
    except OSError as exc:
        raise directory_error(config.reports_dir, exc) from None
    return path


def _write_run(
    session: Session, config: Config, run_id: int, shown: dict[int, RunStats], stats: RunStats | None = None
) -> Path:
    """Write one run's report and add its statistics to `shown`; the caller has repriced the run (and
    may hand over its statistics) and caches `shown` for the index (`remember`)."""
    report = build_run_report(session, run_id, stats=stats)
    path = _write(config, report.path, render_run_report(report))
    _record(session, "run", report.path, report.event.id if report.event else None, [run_id])
    shown[run_id] = report.stats
    return path


def _write_event(
    session: Session,
    config: Config,
    event_id: int,
    runs_written: set[int],
    comparison: EventComparison | None = None,
    migration: Migration | None = None,
) -> Path:
    """Write the event report, first writing the linked run reports not in `runs_written`; the
    comparison (or a retirement's migration) is computed here unless the caller has it already."""
    event = session.get(Event, event_id)
    if event is not None and event.kind == "retirement":
        return _write_migration(session, config, event_id, runs_written, migration)
    report = build_event_report(session, config, event_id, comparison=comparison)
    todo = [
        line for line in report.runs if line.status in REPORTABLE_STATUSES and line.id not in runs_written
    ]
    # One repricing for all the linked runs; when it changed nothing, the comparison's statistics hold.
    changed = reprice(session, config, [line.id for line in todo]) if todo else 0
    known = {} if changed else _priced_stats(report.comparison)
    shown: dict[int, RunStats] = {}
    for line in todo:
        stats = known.get(line.id)
        reusable = stats is not None and stats.status == line.status and line.status in SETTLED
        _write_run(session, config, line.id, shown, stats if reusable else None)
        runs_written.add(line.id)
    remember(session, shown)
    path = _write(config, report.path, render_event_report(report))
    _record(session, "event", report.path, event_id, [line.id for line in report.runs])
    return path


def _write_migration(
    session: Session, config: Config, event_id: int, runs_written: set[int], migration: Migration | None
) -> Path:
    """A retirement event's page is its migration report (pipeline/report/migration.py)."""
    report = build_migration_report(session, config, event_id, migration=migration)
    todo = [run_id for run_id in report.run_ids if run_id not in runs_written]
    if todo:
        reprice(session, config, todo)
    shown: dict[int, RunStats] = {}
    for run_id in todo:
        _write_run(session, config, run_id, shown)
        runs_written.add(run_id)
    remember(session, shown)
    path = _write(config, report.path, render_migration_report(report))
    _record(session, "event", report.path, event_id, report.run_ids)
    return path


def write_run_report(db: Database, config: Config, run_id: int) -> Path:
    """Write `reports/runs/<safe>.html` for one run and record it; returns its path."""
    with db.session() as session:
        reprice(session, config, [run_id])
        shown: dict[int, RunStats] = {}
        path = _write_run(session, config, run_id, shown)
        remember(session, shown)
        return path


def write_event_report(
    db: Database,
    config: Config,
    event_id: int,
    *,
    comparison: EventComparison | None = None,
    migration: Migration | None = None,
) -> Path:
    """Write `reports/events/<safe>.html` (and the reports of the runs it links to); returns its path."""
    with db.session() as session:
        return _write_event(session, config, event_id, set(), comparison, migration)


def _priced_stats(comparison: EventComparison | None) -> dict[int, RunStats]:
    """The statistics the comparison computed for each run it compared, by run id."""
    if comparison is None:
        return {}
    found = (stats for suite in comparison.suites for stats in (suite.candidate, suite.baseline))
    return {stats.run_id: stats for stats in found if stats is not None}


def write_index(db: Database, config: Config, *, repriced: bool = False) -> Path:
    """Write `reports/index.html` from what the database holds now; returns its path. `repriced`: the
    caller has just repriced every run (as `compare_event` does), so it is not done twice."""
    with db.session() as session:
        if not repriced:
            reprice(session, config)
        report = build_index(session, config)
        path = _write(config, report.path, render_index(report))
        _record(session, "index", report.path, None, [])
        return path


def write_all(db: Database, config: Config) -> list[Path]:
    """Every run report, every event report, then the index; unchanged files keep their bytes."""
    paths: list[Path] = []
    with db.session() as session:
        reprice(session, config)
        run_ids = session.scalars(
            select(Run.id).where(Run.status.in_(REPORTABLE_STATUSES)).order_by(Run.id)
        ).all()
        shown: dict[int, RunStats] = {}
        paths += [_write_run(session, config, run_id, shown) for run_id in run_ids]
        remember(session, shown)
        runs_written = set(run_ids)
        for event_id in session.scalars(select(Event.id).order_by(Event.id)).all():
            paths.append(_write_event(session, config, event_id, runs_written))
    paths.append(write_index(db, config, repriced=True))
    return paths
