"""The retirement check: a baseline or watched model near its date gets one event evaluating replacements.

On each poll tick the leader resolves the retirement date of every baseline and watched model
(`core/retirements.py`: config, then the provider's listing, then the tables). A model within
`[schedule] retirement_notice_days` of its date (or past it) gets ONE `retirement` event, ever: a
partial unique index on events makes the insert a no-op for a second leader. In the same
transaction the event's runs are queued: each candidate replacement on the retiring model's
suites, and the retiring model itself on the suites where it has no run finished in the last
RECENT_RUN_DAYS days (none once its date has passed: it no longer answers). Candidates are the
configured replacements, else the ones the table's announcement names, else the provider's newer
models of the same family (`pipeline/poll/family.py`, at most three). `model-monitor poll` runs the
same check after its poll (with `--dry-run`, it only says which events it would open).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from monitor.core.errors import MonitorError
from monitor.core.retirements import Retirement, default_tables, resolve
from monitor.pipeline.complete import drift_targets
from monitor.pipeline.poll.family import newer_in_family
from monitor.pipeline.poll.retirements import listed_replacements, provider_date
from monitor.providers.registry import cannot_call
from monitor.store.db import dialect_insert
from monitor.store.statuses import COMPLETED, UNFINISHED
from monitor.store.tables import Event, Model, Run, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.evals.loader import SuiteSpec
    from monitor.store.db import Database
    from monitor.store.lease import Fence

log = logging.getLogger("monitor.retirements")

RECENT_RUN_DAYS = 30


@dataclass(frozen=True)
class Upcoming:
    """A baseline or watched model with a known retirement date, and the suites it is evaluated on."""

    model: str
    retirement: Retirement
    days_left: int
    suites: list[str] | None  # None: the default suites

    def when(self) -> str:
        """`retires on DAY, in N days` (or `retired on DAY, N days ago`)."""
        day = self.retirement.date.isoformat()
        if self.days_left < 0:
            return f"retired on {day}, {-self.days_left} days ago"
        return f"retires on {day}, in {self.days_left} days"

    def warning(self) -> str:
        """One line for `status`."""
        return f"{self.model} {self.when()} (from {self.retirement.source}: {self.retirement.detail})"


@dataclass(frozen=True)
class OpenedRetirement:
    """One retirement event a check opened (or, in a dry run, would open) and the runs it queued."""

    upcoming: Upcoming
    event_id: int | None  # None in a dry run
    detail: dict[str, Any]
    queued_runs: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The event for `poll --json`: its id, the model and the event's detail."""
        return {
            "event_id": self.event_id,
            "model": self.upcoming.model,
            **self.detail,
            "queued_runs": self.queued_runs,
        }

    def summary(self) -> str:
        """One line for `poll`: the event, the date and what is evaluated."""
        model, source = self.upcoming.model, self.upcoming.retirement.source
        when = f"{model} ({self.upcoming.when()}, from {source})"
        candidates = ", ".join(self.detail["candidates"]) or "no replacement"
        if self.event_id is None:
            suites = ", ".join(self.detail["suites"]) or "no suite"
            return f"would open a retirement event for {when}; would evaluate {candidates} on {suites}"
        return (
            f"opened retirement event {self.event_id} for {when}; "
            f"queued {self.queued_runs} runs evaluating {candidates}"
        )


@dataclass
class RetirementCheck:
    """What one check did: events opened (or, in a dry run, due), runs queued, and why a model still waits."""

    opened: list[OpenedRetirement] = field(default_factory=list)
    queued_runs: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def events(self) -> list[int]:
        """The ids of the events opened (none in a dry run)."""
        return [o.event_id for o in self.opened if o.event_id is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "events": [o.as_dict() for o in self.opened],
            "queued_runs": self.queued_runs,
            "errors": self.errors,
        }


def listed_dates(session: Session, keys: list[str]) -> dict[str, tuple[dt.date, tuple[str, ...]]]:
    """The retirement day each model's provider listing carries, and the replacements it names, for
    the models that have one."""
    found: dict[str, tuple[dt.date, tuple[str, ...]]] = {}
    for key in keys:
        provider, _, model_id = key.partition(":")
        row = session.execute(
            select(Model.retires_at, Model.raw, Model.last_seen).where(
                Model.provider == provider, Model.model_id == model_id
            )
        ).first()
        if row is not None and (day := provider_date(row[0], row[1], row[2])) is not None:
            found[key] = (day, listed_replacements(row[1] or {}))
    return found


def watched_retirements(session: Session, config: Config, today: dt.date) -> list[Upcoming]:
    """Every baseline and watched model with a known retirement date, soonest first."""
    targets = drift_targets(config)
    listed = listed_dates(session, list(targets))
    tables = default_tables(config)
    found = []
    for key, suites in targets.items():
        day, replacements = listed.get(key, (None, ()))
        retirement = resolve(config, key, listed=day, listed_replacements=replacements, tables=tables)
        if retirement is not None:
            found.append(Upcoming(key, retirement, retirement.days_left(today), suites))
    return sorted(found, key=lambda u: (u.days_left, u.model))


def due(session: Session, config: Config, today: dt.date) -> list[Upcoming]:
    """The baseline and watched models within the notice window of their date, or past it."""
    window = config.schedule.retirement_notice_days
    return [u for u in watched_retirements(session, config, today) if u.days_left <= window]


def retirement_warnings(session: Session, config: Config, today: dt.date) -> list[str]:
    """`status` lines for the baseline and watched models inside their retirement window."""
    return [u.warning() for u in due(session, config, today)]


def check_retirements(
    db: Database,
    config: Config,
    *,
    today: dt.date | None = None,
    fence: Fence | None = None,
    dry_run: bool = False,
) -> RetirementCheck:
    """Open the retirement event (and queue its runs) of every due model that has none yet.

    The daemon's poll tick and `model-monitor poll` both call this; with `dry_run` nothing is
    written and `opened` lists the events that would be opened.
    """
    today = today or utcnow().date()
    check = RetirementCheck(dry_run=dry_run)
    try:
        with db.session() as session:
            upcoming = due(session, config, today)
    except MonitorError as exc:  # a broken retirements.toml must not stop the poll that called us
        check.errors.append(f"retirement dates cannot be read: {exc}")
        log.error("%s", check.errors[-1])
        return check
    for item in upcoming:
        provider, _, model_id = item.model.partition(":")
        with db.session() as session:
            if _has_event(session, provider, model_id):
                continue
            try:
                specs = _suites(config, item.suites)
            except MonitorError as exc:
                check.errors.append(f"{item.model} retires on {item.retirement.date}; its runs wait: {exc}")
                log.error("%s", check.errors[-1])
                continue
            candidates, origin, notes = choose_candidates(session, config, item)
            detail: dict[str, Any] = {
                **item.retirement.as_dict(),
                "days_left": item.days_left,
                "candidates": candidates,
                "candidates_from": origin,
                "suites": [spec.name for spec in specs],
                "notes": notes,
            }
            if dry_run:
                check.opened.append(OpenedRetirement(item, None, detail))
                continue
            event_id = _open_event(session, provider, model_id, detail)
            if event_id is None:
                continue  # another leader opened it just now
            queued = _plan_runs(session, config, event_id, item, candidates, specs)
            if fence is not None:
                fence.check(session)
            check.queued_runs += queued
            check.opened.append(OpenedRetirement(item, event_id, detail, queued))
            log.info("retirement: %s (%s); evaluating %s", item.model, item.warning(), ", ".join(candidates))
    return check


def choose_candidates(session: Session, config: Config, item: Upcoming) -> tuple[list[str], str, list[str]]:
    """The replacements to evaluate, where they come from, and notes on the ones left out."""
    provider, _, model_id = item.model.partition(":")
    notes: list[str] = []
    if item.retirement.replacements and item.retirement.source == "config":
        keys, origin = list(item.retirement.replacements), "config"
    elif item.retirement.replacements:
        listed = set(session.scalars(select(Model.model_id).where(Model.provider == provider)))
        keys = [k for k in item.retirement.replacements if k.partition(":")[2] in listed]
        notes += [
            f"{k}: named by the announcement but not listed by the provider"
            for k in item.retirement.replacements
            if k not in keys
        ]
        origin = (
            "the provider's model list"
            if item.retirement.source == "provider"
            else "the provider's announcement"
        )
    else:
        keys, origin = [], ""
    if not keys:
        later = [
            key
            for name in newer_in_family(session, provider, model_id)
            if not _retires_first(config, key := f"{provider}:{name}", item.retirement.date)
        ]
        keys, origin = later, "newer models of the same family"
    callable_keys = []
    for key in keys:
        problem = cannot_call(config, key)
        if problem is None:
            callable_keys.append(key)
        else:
            notes.append(f"{key} left out: {problem}")
    if not callable_keys:
        notes.append("no replacement to evaluate: set [retirements] replacements in monitor.toml")
    return callable_keys, origin or "none", notes


def _retires_first(config: Config, key: str, date: dt.date) -> bool:
    """Whether a would-be replacement retires on or before the retiring model's own date."""
    retirement = resolve(config, key)
    return retirement is not None and retirement.date <= date


def _suites(config: Config, names: list[str] | None) -> list[SuiteSpec]:
    """The retiring model's suites (as the drift check loads them); none without a suites directory."""
    from monitor.evals.loader import load_suites

    if not config.suites_dir.is_dir():
        return []
    return list(
        load_suites(
            config.suites_dir, names or config.suites.default or None, default_judge=config.judge.model
        )
    )


def _has_event(session: Session, provider: str, model_id: str) -> bool:
    query = select(Event.id).where(
        Event.kind == "retirement", Event.provider == provider, Event.model_id == model_id
    )
    return session.scalar(query.limit(1)) is not None


def _open_event(session: Session, provider: str, model_id: str, detail: dict[str, Any]) -> int | None:
    """Insert the model's retirement event, or nothing when it has one (the partial unique index decides)."""
    now = utcnow()
    stmt = (
        dialect_insert(session, Event)
        .values(
            kind="retirement",
            provider=provider,
            model_id=model_id,
            detail=detail,
            created_at=now,
            planned_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[Event.provider, Event.model_id], index_where=Event.kind == "retirement"
        )
        .returning(Event.id)
    )
    return session.scalar(stmt)


def _plan_runs(
    session: Session,
    config: Config,
    event_id: int,
    item: Upcoming,
    candidates: list[str],
    specs: list[SuiteSpec],
) -> int:
    """Queue each candidate on every suite, and the retiring model where it has no recent run."""
    from monitor.evals.register import register_suite
    from monitor.pipeline.queue import enqueue_runs

    def queue(key: str, suites: list[SuiteSpec]) -> int:
        provider, _, model_id = key.partition(":")
        runs = enqueue_runs(
            session,
            config,
            provider=provider,
            model_id=model_id,
            trigger="retirement",
            event_id=event_id,
            suites=suites,
        )
        return len(runs)

    queued = sum(queue(key, specs) for key in candidates)
    if item.days_left < 0 or cannot_call(config, item.model) is not None:
        return queued
    provider, _, model_id = item.model.partition(":")
    since = utcnow() - dt.timedelta(days=RECENT_RUN_DAYS)
    stale = [
        spec
        for spec in specs
        if not _recent_run(session, provider, model_id, register_suite(session, spec).id, since)
    ]
    return queued + (queue(item.model, stale) if stale else 0)


def _recent_run(session: Session, provider: str, model_id: str, suite_id: int, since: dt.datetime) -> bool:
    """A run finished since `since`, or one still to finish, of the model on this suite version."""
    query = select(Run.id).where(
        Run.provider == provider,
        Run.model_id == model_id,
        Run.suite_id == suite_id,
        ((Run.status.in_(COMPLETED)) & (Run.finished_at >= since)) | Run.status.in_(UNFINISHED),
    )
    return session.scalar(query.limit(1)) is not None
