"""Retention: blank the raw outputs of old results, keeping their scores, grades and totals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from monitor.store.db import Database
from monitor.store.tables import Result, utcnow


def prune_outputs(db: Database, *, older_than: timedelta) -> int:
    """Set `Result.output` to NULL where older than `older_than`; returns how many rows changed."""
    cutoff = utcnow() - older_than
    with db.session() as session:
        result = session.execute(
            update(Result)
            .where(Result.created_at < cutoff, Result.output.is_not(None))
            .values(output=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
