"""Registering a suite version in the database: its Suite row and Sample rows, created once per version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.store import tables as models

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec


def register_suite(session: Session, spec: SuiteSpec) -> models.Suite:
    """The Suite row for this version, created with its Sample rows (in bulk) the first time."""
    query = select(models.Suite).where(models.Suite.name == spec.name, models.Suite.version == spec.version)
    existing = session.scalar(query)
    if existing is not None:
        return existing
    suite = models.Suite(
        name=spec.name,
        version=spec.version,
        description=spec.description,
        sample_count=len(spec.samples),
        definition=spec.definition,
    )
    try:
        with session.begin_nested():
            session.add(suite)
            session.flush()
            rows = [
                {
                    "suite_id": suite.id,
                    "key": s.key,
                    "position": i,
                    "group": s.group,
                    "messages": s.messages,
                    "target": s.target,
                    "choices": s.choices,
                    "request": s.request,
                }
                for i, s in enumerate(spec.samples)
            ]
            session.execute(insert(models.Sample), rows)
    except IntegrityError:
        existing = session.scalar(query)  # another process registered the same version first
        if existing is None:
            raise
        return existing
    return suite
