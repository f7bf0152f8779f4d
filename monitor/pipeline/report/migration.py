"""The migration report page: the retiring model, each candidate against it per suite, the choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from monitor.core.errors import MonitorError
from monitor.pipeline.compare.migration import Migration, compare_migration
from monitor.pipeline.report.files import event_report_path, run_report_path
from monitor.pipeline.report.queries import REPORTABLE_STATUSES
from monitor.pipeline.report.render import environment
from monitor.store.tables import Event, Run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config


@dataclass
class MigrationReport:
    """What the page shows: the event, its migration comparison, and links to the runs' own reports."""

    event: Event
    migration: Migration
    path: str
    run_paths: dict[int, str]  # run id -> its report, relative to the event page's folder's parent

    @property
    def run_ids(self) -> list[int]:
        return sorted(self.run_paths)


def build_migration_report(
    session: Session,
    config: Config,
    event_id: int,
    *,
    today: dt.date | None = None,
    migration: Migration | None = None,
) -> MigrationReport:
    """The retirement event's page content (its migration comparison: `migration`, else computed now)."""
    event = session.get(Event, event_id)
    if event is None:
        raise MonitorError(f"event {event_id} does not exist")
    runs = session.scalars(select(Run).where(Run.event_id == event_id).order_by(Run.id))
    run_paths = {run.id: run_report_path(run) for run in runs if run.status in REPORTABLE_STATUSES}
    return MigrationReport(
        event=event,
        migration=migration or compare_migration(session, config, event_id, today=today),
        path=event_report_path(event),
        run_paths=run_paths,
    )


def render_migration_report(report: MigrationReport) -> str:
    """The page's HTML (it lives one folder below the reports directory, like every event page)."""
    return environment().get_template("migration.html.j2").render(report=report, root="../")
