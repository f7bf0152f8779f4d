"""Poll the configured providers' model lists and diff them with the models table: new, removed, returned."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from monitor.core.errors import ConfigError, MonitorError
from monitor.store.tables import Event, Model, ProviderPoll, Run, Suite, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config, ProviderConfig
    from monitor.providers.base import ModelInfo, Provider
    from monitor.store.db import Database

log = logging.getLogger(__name__)

REMOVAL_POLLS = 2
"""A model is marked removed after missing from this many consecutive complete polls (providers.md §6)."""

DEPRECATION_FIELDS = (
    "shutdown_date",
    "lifecycle",
    "deprecated_at",
    "retires_at",
    "deprecation",
    "deprecation_replacement_model",
    "expiration_date",
    "active",
)
"""Raw metadata fields whose change is a deprecation signal (providers.md §6), recorded as an event."""

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
    bootstrap: bool = False
    seconds: float = 0.0


@dataclass
class PollReport:
    """Every polled provider's outcome, in the order they were asked for."""

    outcomes: list[ProviderOutcome]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[str]:
        return [o.name for o in self.outcomes if not o.ok]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "providers": [asdict(o) for o in self.outcomes]}


@dataclass
class Listing:
    """One provider's list call: the chat models kept, every listed id, or the error."""

    name: str
    started_at: datetime
    finished_at: datetime
    seconds: float
    kept: list[ModelInfo] = field(default_factory=list)
    listed_ids: set[str] = field(default_factory=set)
    error: str | None = None
    error_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class StoredModel:
    """The columns of a `models` row that a diff needs (read with one Core query, no ORM objects)."""

    id: int
    model_id: str
    display_name: str | None
    owned_by: str | None
    removed_at: datetime | None
    missing_polls: int
    last_seen: datetime
    raw: dict[str, Any]


STORED_COLUMNS = (
    Model.id,
    Model.model_id,
    Model.display_name,
    Model.owned_by,
    Model.removed_at,
    Model.missing_polls,
    Model.last_seen,
    Model.raw,
)


@dataclass
class ModelDiff:
    """How the stored models of one provider change after a complete list (pure data, nothing written)."""

    bootstrap: bool
    new: list[ModelInfo] = field(default_factory=list)
    returned: list[StoredModel] = field(default_factory=list)
    removed: list[StoredModel] = field(default_factory=list)
    missing: list[StoredModel] = field(default_factory=list)
    reset: list[StoredModel] = field(default_factory=list)
    changed: list[tuple[StoredModel, ModelInfo, dict[str, list[Any]]]] = field(default_factory=list)
    seen_ids: list[int] = field(default_factory=list)


def wanted(provider: Provider, cfg: ProviderConfig, info: ModelInfo) -> bool:
    """`include`/`exclude` globs decide when they speak (exclude wins); else the provider's default rule."""
    decided = cfg.keeps(info.id)
    return provider.is_chat_model(info) if decided is None else decided


def select_chat_models(
    provider: Provider, cfg: ProviderConfig, infos: Iterable[ModelInfo]
) -> list[ModelInfo]:
    """The models discovery tracks for this provider (first entry wins for a repeated id)."""
    kept: dict[str, ModelInfo] = {}
    for info in infos:
        if info.id not in kept and wanted(provider, cfg, info):
            kept[info.id] = info
    return list(kept.values())


def list_provider(
    name: str, cfg: ProviderConfig, factory: Callable[[str, ProviderConfig], Provider]
) -> Listing:
    """List and filter one provider; every failure (config, provider, bug) becomes `Listing.error`."""
    started_at = utcnow()
    clock = time.perf_counter()
    kept: list[ModelInfo] = []
    listed_ids: set[str] = set()
    error: str | None = None
    kind: str | None = None
    try:
        provider = factory(name, cfg)
        try:
            infos = provider.list_models()
            listed_ids = {info.id for info in infos}
            kept = select_chat_models(provider, cfg, infos)
        finally:
            asyncio.run(provider.aclose())
    except MonitorError as exc:
        error, kind = str(exc), getattr(exc, "kind", "config")
    except Exception as exc:
        from monitor.providers.http import redact

        log.exception("%s: listing models failed unexpectedly", name)
        error, kind = redact(f"{type(exc).__name__}: {exc}", (cfg.api_key(),)), "internal"
    return Listing(
        name=name,
        started_at=started_at,
        finished_at=utcnow(),
        seconds=time.perf_counter() - clock,
        kept=kept,
        listed_ids=listed_ids,
        error=error,
        error_kind=kind,
    )


def _deprecation_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {f: [old.get(f), new.get(f)] for f in DEPRECATION_FIELDS if old.get(f) != new.get(f)}


def diff_models(
    rows: Sequence[StoredModel], kept: Sequence[ModelInfo], listed_ids: set[str], bootstrap: bool
) -> ModelDiff:
    """Compare the stored rows of one provider with a complete, successful list.

    A row counts as present when the provider listed its id at all (even if include/exclude now
    filter it out): only what the provider stopped listing goes missing, and only after
    REMOVAL_POLLS consecutive complete polls is it removed.
    """
    diff = ModelDiff(bootstrap=bootstrap)
    existing = {row.model_id: row for row in rows}
    infos = {info.id: info for info in kept}
    diff.new = [info for info in kept if info.id not in existing]
    for row in rows:
        if row.model_id not in listed_ids:
            if row.removed_at is None:
                (diff.removed if row.missing_polls + 1 >= REMOVAL_POLLS else diff.missing).append(row)
            continue
        diff.seen_ids.append(row.id)
        if row.removed_at is not None:
            diff.returned.append(row)
        elif row.missing_polls:
            diff.reset.append(row)
        info = infos.get(row.model_id)
        if info is not None and (
            info.raw != row.raw or info.display_name != row.display_name or info.owned_by != row.owned_by
        ):
            diff.changed.append((row, info, _deprecation_changes(row.raw or {}, info.raw)))
    return diff


def apply_diff(
    session: Session, config: Config, name: str, diff: ModelDiff, now: datetime
) -> ProviderOutcome:
    """Write one provider's diff, rows and events, in `session` (the queue turns events into runs)."""
    outcome = ProviderOutcome(name=name, ok=True, bootstrap=diff.bootstrap)
    if diff.new:
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
                }
                for info in diff.new
            ],
        )
    outcome.new = [info.id for info in diff.new]
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
    """The first successful poll of a provider: no stored models and no earlier successful poll."""
    if rows:
        return False
    earlier = session.scalar(
        select(ProviderPoll.id).where(ProviderPoll.provider == name, ProviderPoll.ok.is_(True)).limit(1)
    )
    return earlier is None


def _poll_row(listing: Listing, outcome: ProviderOutcome) -> ProviderPoll:
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
            outcome = _dry_outcome(listing.name, _diff_for(session, listing))
        return _with_counts(outcome, listing)
    if listing.ok:
        try:
            with db.session() as session:
                diff = _diff_for(session, listing)
                outcome = _with_counts(apply_diff(session, config, listing.name, diff, utcnow()), listing)
                session.add(_poll_row(listing, outcome))
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


def _diff_for(session: Session, listing: Listing) -> ModelDiff:
    rows = [
        StoredModel(*row)
        for row in session.execute(select(*STORED_COLUMNS).where(Model.provider == listing.name))
    ]
    return diff_models(rows, listing.kept, listing.listed_ids, _is_bootstrap(session, listing.name, rows))


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
        deprecation_changed=[row.model_id for row, _, changes in diff.changed if changes],
    )


def _default_factory(name: str, cfg: ProviderConfig) -> Provider:
    from monitor.providers.registry import get_provider

    return get_provider(name, cfg)


def poll(
    db: Database,
    config: Config,
    providers: list[str] | None = None,
    *,
    dry_run: bool = False,
    factory: Callable[[str, ProviderConfig], Provider] = _default_factory,
) -> PollReport:
    """List every named (default: every configured) provider concurrently and record the differences.

    A provider that fails is reported and changes nothing but its `provider_polls` row; the
    others are still polled. With `dry_run` nothing at all is written.
    """
    names = _provider_names(config, providers)
    outcomes: dict[str, ProviderOutcome] = {}
    with ThreadPoolExecutor(max_workers=min(len(names), 16), thread_name_prefix="poll") as pool:
        futures = [pool.submit(list_provider, name, config.providers[name], factory) for name in names]
        for future in as_completed(futures):
            listing = future.result()
            outcome = record_listing(db, config, listing, dry_run=dry_run)
            outcomes[listing.name] = outcome
            _log_outcome(outcome, dry_run)
    return PollReport(outcomes=[outcomes[name] for name in names], dry_run=dry_run)


def _provider_names(config: Config, providers: list[str] | None) -> list[str]:
    if not config.providers:
        raise ConfigError("no [providers.NAME] table in the config: nothing to poll")
    if not providers:
        return list(config.providers)
    unknown = [p for p in providers if p not in config.providers]
    if unknown:
        raise ConfigError(
            f"unknown provider {', '.join(repr(p) for p in unknown)}; "
            f"configured: {', '.join(config.providers)}"
        )
    return list(dict.fromkeys(providers))


def _log_outcome(outcome: ProviderOutcome, dry_run: bool) -> None:
    prefix = "dry run: " if dry_run else ""
    if not outcome.ok:
        log.warning("%s%s: poll failed (%s): %s", prefix, outcome.name, outcome.error_kind, outcome.error)
        return
    log.info(
        "%s%s: %d chat models of %d listed; %d new, %d removed, %d returned%s",
        prefix,
        outcome.name,
        outcome.listed,
        outcome.listed_total,
        len(outcome.new),
        len(outcome.removed),
        len(outcome.returned),
        " (first poll: recorded, nothing queued)" if outcome.bootstrap else "",
    )


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
            .where(Run.status == "done")
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
                scores={s: v for s, (_, v) in sorted(latest.get((row.provider, row.model_id), {}).items())},
            )
            for row in rows
        ]
