"""Read the model registry: each known model's status and latest score per suite (`model-monitor models`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from monitor.pipeline.poll.retirements import provider_date
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Model, Run, Suite

if TYPE_CHECKING:
    from monitor.store.db import Database


@dataclass
class KnownModel:
    """A model in the registry with its status and latest score per suite (for `model-monitor models`)."""

    provider: str
    model_id: str
    display_name: str | None
    created_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None
    scores: dict[str, float | None] = field(default_factory=dict)
    listed_retirement: date | None = None  # the retirement day the provider's own list gives

    @property
    def status(self) -> str:
        return "removed" if self.removed_at is not None else "active"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


def known_models(
    db: Database,
    *,
    provider: str | None = None,
    new_since: datetime | None = None,
    removed_only: bool = False,
) -> list[KnownModel]:
    """The models table, filtered, each with the score of its most recent finished run per suite."""
    with db.session() as session:
        query = select(Model)
        runs = (
            select(Run.provider, Run.model_id, Suite.name, Run.score, Run.finished_at, Run.id)
            .join(Suite, Suite.id == Run.suite_id)
            .where(Run.status.in_(COMPLETED))
        )
        if provider is not None:
            query = query.where(Model.provider == provider)
            runs = runs.where(Run.provider == provider)
        if new_since is not None:
            query = query.where(Model.first_seen >= new_since)
        if removed_only:
            query = query.where(Model.removed_at.is_not(None))
        rows = session.scalars(query.order_by(Model.provider, Model.first_seen, Model.model_id)).all()
        latest: dict[tuple[str, str], dict[str, tuple[tuple[float, int], float | None]]] = {}
        for run_provider, model_id, suite, score, finished_at, run_id in session.execute(runs):
            order = (finished_at.timestamp() if finished_at else float("-inf"), run_id)
            per_suite = latest.setdefault((run_provider, model_id), {})
            if suite not in per_suite or per_suite[suite][0] < order:
                per_suite[suite] = (order, score)
        return [
            KnownModel(
                provider=row.provider,
                model_id=row.model_id,
                display_name=row.display_name,
                created_at=row.created_at,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                removed_at=row.removed_at,
                listed_retirement=provider_date(row.retires_at, row.raw, row.last_seen),
                scores={s: v for s, (_, v) in sorted(latest.get((row.provider, row.model_id), {}).items())},
            )
            for row in rows
        ]
