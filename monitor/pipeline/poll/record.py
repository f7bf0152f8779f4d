"""Record one provider's listing: write its diff (models rows, events) and its `provider_polls` row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from monitor.core.errors import MonitorError
from monitor.pipeline.poll.diff import (
    DEPRECATION_FIELDS,
    REMOVAL_POLLS,
    STORED_COLUMNS,
    ModelDiff,
    StoredModel,
    diff_models,
)
from monitor.pipeline.poll.retirements import listed_retirement
from monitor.pipeline.poll.trust import CONFIRM_POLLS, confirms, listing_record, now_watched, suspect_reason
from monitor.store.tables import Event, Model, ProviderPoll, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.pipeline.poll.listing import Listing
    from monitor.store.db import Database

_ID_CHUNK = 500


@dataclass
class ProviderOutcome:
    """What one provider's poll found (or why it failed). Ids are model ids without the provider."""

    name: str
    ok: bool
    error: str | None = None
    error_kind: str | None = None
    listed: int = 0
    listed_total: int = 0
    new: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    deprecation_changed: list[str] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)
    bootstrap: bool = False
    seconds: float = 0.0


def apply_diff(session: Session, name: str, diff: ModelDiff, now: datetime) -> ProviderOutcome:
    """Write one provider's diff, rows and events, in `session` (the queue turns events into runs)."""
    outcome = ProviderOutcome(name=name, ok=True, bootstrap=diff.bootstrap)
    if diff.new or diff.watched:
        session.execute(
            insert(Model),
            [
                {
                    "provider": name,
                    "model_id": info.id,
                    "display_name": info.display_name,
                    "owned_by": info.owned_by,
                    "created_at": info.created,
                    "first_seen": now,
                    "last_seen": now,
                    "missing_polls": 0,
                    "raw": info.raw,
                    "retires_at": listed_retirement(info.raw, now),
                }
                for info in [*diff.new, *diff.watched]
            ],
        )
    outcome.new = [info.id for info in diff.new]
    outcome.watched = [info.id for info in diff.watched]
    events: list[Event] = []
    if not diff.bootstrap:
        for info in diff.new:
            event = Event(
                kind="new_model",
                provider=name,
                model_id=info.id,
                created_at=now,
                detail={
                    "display_name": info.display_name,
                    "created": info.created.isoformat() if info.created else None,
                    "owned_by": info.owned_by,
                    "aliases": list(info.aliases),
                },
            )
            events.append(event)
    for row in diff.returned:
        events.append(
            Event(
                kind="returned_model",
                provider=name,
                model_id=row.model_id,
                created_at=now,
                detail={"removed_at": row.removed_at.isoformat() if row.removed_at else None},
            )
        )
        outcome.returned.append(row.model_id)
    for row in diff.removed:
        last_known = {f: row.raw.get(f) for f in DEPRECATION_FIELDS if row.raw.get(f) is not None}
        events.append(
            Event(
                kind="removed_model",
                provider=name,
                model_id=row.model_id,
                created_at=now,
                detail={"last_seen": row.last_seen.isoformat(), **last_known},
            )
        )
        outcome.removed.append(row.model_id)
    for row, _info, changes in diff.changed:
        if changes:
            events.append(
                Event(
                    kind="deprecation_changed",
                    provider=name,
                    model_id=row.model_id,
                    created_at=now,
                    detail={"changes": changes},
                )
            )
            outcome.deprecation_changed.append(row.model_id)
    _update_where_id_in(session, [r.id for r in diff.returned], removed_at=None, missing_polls=0)
    _update_where_id_in(session, [r.id for r in diff.reset], missing_polls=0)
    _update_where_id_in(session, [r.id for r in diff.missing], missing_polls=Model.missing_polls + 1)
    _update_where_id_in(
        session, [r.id for r in diff.removed], missing_polls=Model.missing_polls + 1, removed_at=now
    )
    if diff.changed:
        session.execute(
            update(Model),
            [
                {
                    "id": row.id,
                    "raw": info.raw,
                    "display_name": info.display_name,
                    "owned_by": info.owned_by,
                    "created_at": info.created,
                }
                for row, info, _changes in diff.changed
            ],
        )
    for row, info, changes in diff.changed:
        if changes:  # a deprecation field changed: the listing's retirement date may have too
            _update_where_id_in(session, [row.id], retires_at=listed_retirement(info.raw, now))
    _update_where_id_in(session, diff.seen_ids, last_seen=now)
    session.add_all(events)
    session.flush()
    return outcome


def _update_where_id_in(session: Session, ids: list[int], **values: Any) -> None:
    """One UPDATE per chunk of ids setting the same values (no ORM objects, nothing synchronised)."""
    for start in range(0, len(ids), _ID_CHUNK):
        session.execute(
            update(Model).where(Model.id.in_(ids[start : start + _ID_CHUNK])).values(**values),
            execution_options={"synchronize_session": False},
        )


def _is_bootstrap(session: Session, name: str, rows: Sequence[StoredModel]) -> bool:
    """The first list of a provider: no stored models and no earlier successful poll that listed any.

    An earlier poll that kept nothing, or got an empty list, says nothing of what is new: the
    next list is recorded as it is, not queued. (A poll from before `listing` was kept counts.)
    """
    if rows:
        return False
    earlier = session.scalar(
        select(ProviderPoll.id)
        .where(
            ProviderPoll.provider == name,
            ProviderPoll.ok.is_(True),
            or_(ProviderPoll.listing.is_(None), ProviderPoll.listing["listed_total"].as_integer() > 0),
        )
        .limit(1)
    )
    return earlier is None


def _listings(session: Session, name: str, *, applied: bool, limit: int) -> list[dict[str, Any]]:
    """The `listing` of the provider's latest polls that got a list (newest first); `applied`: ok ones."""
    query = select(ProviderPoll.listing).where(
        ProviderPoll.provider == name, ProviderPoll.listing.is_not(None)
    )
    if applied:
        query = query.where(ProviderPoll.ok.is_(True))
    return [row for row in session.scalars(query.order_by(ProviderPoll.id.desc()).limit(limit)) if row]


def _poll_row(
    listing: Listing, outcome: ProviderOutcome, shape: dict[str, Any] | None = None
) -> ProviderPoll:
    return ProviderPoll(
        provider=listing.name,
        started_at=listing.started_at,
        finished_at=utcnow(),
        ok=outcome.ok,
        error=outcome.error,
        listed=outcome.listed,
        new=len(outcome.new) if not outcome.bootstrap else 0,
        removed=len(outcome.removed),
        returned=len(outcome.returned),
        listing=shape,
    )


def record_listing(
    db: Database, config: Config, listing: Listing, *, dry_run: bool = False
) -> ProviderOutcome:
    """Diff one listing with the database and (unless dry_run) write it all in one transaction."""
    failed = ProviderOutcome(
        name=listing.name,
        ok=False,
        error=listing.error,
        error_kind=listing.error_kind,
        seconds=listing.seconds,
    )
    if listing.ok and dry_run:
        with db.sessionmaker() as session:
            diff, suspect, _shape = _assess(session, config, listing)
        if suspect is not None:
            failed.error, failed.error_kind = suspect, "suspect"
            return _with_counts(failed, listing)
        return _with_counts(_dry_outcome(listing.name, diff), listing)
    if listing.ok:
        try:
            with db.session() as session:
                diff, suspect, shape = _assess(session, config, listing)
                if suspect is not None:
                    failed.error, failed.error_kind = suspect, "suspect"
                    session.add(_poll_row(listing, _with_counts(failed, listing), shape))
                    return failed
                outcome = _with_counts(apply_diff(session, listing.name, diff, utcnow()), listing)
                session.add(_poll_row(listing, outcome, shape))
            return outcome
        except IntegrityError:
            failed.error = "another poll recorded the same models at the same time; nothing written"
            failed.error_kind = "conflict"
        except MonitorError as exc:
            failed.error, failed.error_kind = f"recording the poll failed: {exc}", "record"
    if not dry_run:
        with db.session() as session:
            session.add(_poll_row(listing, failed))
    return failed


def _assess(
    session: Session, config: Config, listing: Listing
) -> tuple[ModelDiff, str | None, dict[str, Any]]:
    """The listing's diff, why it is suspect (None: it is believed) and its `provider_polls.listing`."""
    rows = [
        StoredModel(*row)
        for row in session.execute(select(*STORED_COLUMNS).where(Model.provider == listing.name))
    ]
    cfg = config.providers[listing.name]
    suspect = suspect_reason(rows, listing.listed_ids)
    confirmed = suspect is not None and confirms(
        _listings(session, listing.name, applied=False, limit=CONFIRM_POLLS - 1), listing.listed_ids
    )
    if confirmed:
        suspect = None
    stored = {row.model_id for row in rows}
    applied = _listings(session, listing.name, applied=True, limit=1)
    watched = now_watched(
        cfg, (info.id for info in listing.kept if info.id not in stored), applied[0] if applied else None
    )
    diff = diff_models(
        rows,
        listing.kept,
        listing.listed_ids,
        _is_bootstrap(session, listing.name, rows),
        watched=watched,
        removal_polls=1 if confirmed else REMOVAL_POLLS,
    )
    return diff, suspect, listing_record(cfg, listing.listed_ids, suspect=suspect is not None)


def _with_counts(outcome: ProviderOutcome, listing: Listing) -> ProviderOutcome:
    outcome.listed = len(listing.kept)
    outcome.listed_total = len(listing.listed_ids)
    outcome.seconds = listing.seconds
    return outcome


def _dry_outcome(name: str, diff: ModelDiff) -> ProviderOutcome:
    return ProviderOutcome(
        name=name,
        ok=True,
        bootstrap=diff.bootstrap,
        new=[info.id for info in diff.new],
        removed=[row.model_id for row in diff.removed],
        returned=[row.model_id for row in diff.returned],
        watched=[info.id for info in diff.watched],
        deprecation_changed=[row.model_id for row, _, changes in diff.changed if changes],
    )
