"""Completing events: report and e-mail each finished event exactly once; drift checks and their alerts.

Exactly once: the report files are written first (idempotent), then ONE transaction sets
`events.reported_at` with `UPDATE ... WHERE reported_at IS NULL` and, only when that update won,
enqueues the e-mail under the outbox's unique dedupe key. Two processes racing, or a process dying
between the steps, can at worst rewrite the same report files; the mail is queued once.

Removed and returned models, and changed deprecation details, are told in one short notice e-mail
per batch (everything unreported when the work job runs, normally one poll's changes); the report
of a new model found by the same poll also lists them.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from monitor.core.config import Config
from monitor.store.db import Database
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Event, Model, Run, utcnow

if TYPE_CHECKING:
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.store.lease import Fence

log = logging.getLogger("monitor.events")

FINISHED = (*COMPLETED, "failed", "skipped")
REPORTED_KINDS = ("new_model", "drift", "retirement")
AVAILABILITY_KINDS = ("removed_model", "returned_model", "deprecation_changed")


def pending_event_ids(session: Session) -> list[int]:
    """Unreported new-model and drift events none of whose runs is still unfinished.

    A new-model event counts only once the queue has planned it (its runs exist, or none will).
    """
    unfinished = exists().where(Run.event_id == Event.id, Run.status.not_in(FINISHED))
    planned = or_(Event.kind != "new_model", Event.planned_at.is_not(None))
    query = (
        select(Event.id)
        .where(Event.kind.in_(REPORTED_KINDS), Event.reported_at.is_(None), planned, ~unfinished)
        .order_by(Event.id)
    )
    return list(session.scalars(query))


def complete_events(db: Database, config: Config) -> list[int]:
    """Report every finished event once (report files, index, e-mail); returns the ids reported now.

    A failure on one event is logged and the others still complete; it is retried on the next call.
    The daemon calls this only while it leads (workers never do), so the files land where `serve` reads.
    """
    with db.session() as session:
        ids = pending_event_ids(session)
    reported: list[int] = []
    for event_id in ids:
        try:
            if complete_event(db, config, event_id):
                reported.append(event_id)
        except Exception:
            log.exception("could not complete event %d; will retry", event_id)
    try:
        reported += notify_availability(db, config)
    except Exception:
        log.exception("could not send the removed/returned models notice; will retry")
    return reported


def complete_event(db: Database, config: Config, event_id: int) -> bool:
    """Write the event's report and the index, then mark it reported and queue its mail atomically.

    Returns False when another process reported it first. A drift event is mailed only when it
    found a change (see `drift_findings`); otherwise it is recorded as checked, without mail.
    """
    from monitor.pipeline.compare.events import compare_event
    from monitor.pipeline.compare.migration import compare_migration
    from monitor.pipeline.deliver.mailer import enqueue_event_email
    from monitor.pipeline.deliver.notify import enqueue_event_notifications
    from monitor.pipeline.report.write import write_event_report, write_index

    with db.session() as session:
        event = session.get(Event, event_id)
        if event is None or event.reported_at is not None:
            return False
        migration = None
        if event.kind == "retirement":  # one migration report: each replacement against the retiring model
            migration = compare_migration(session, config, event_id)
            event.detail = {**(event.detail or {}), "recommendation": migration.recommendation_record()}
            comparison = migration.summary()
        else:
            comparison = compare_event(session, config, event_id)
        alert, findings = True, []
        if event.kind == "drift":
            findings = drift_findings(session, comparison)
            alert = bool(findings)
            event.detail = {
                **(event.detail or {}),
                "status": "changed" if alert else "unchanged",
                "findings": findings,
            }
    # The report, the mail and the notifications share the one comparison computed above.
    report_path = write_event_report(db, config, event_id, comparison=comparison, migration=migration)
    if findings:
        comparison.headline = f"{comparison.headline}; drift: {'; '.join(findings)}"
    write_index(db, config, repriced=True)  # compare_event / compare_migration repriced every run
    with db.session() as session:
        won = session.execute(
            update(Event)
            .where(Event.id == event_id, Event.reported_at.is_(None))
            .values(reported_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) != 1:
            return False
        queued = alert and enqueue_event_email(
            session, config, event_id, comparison, report_path, migration=migration
        )
        if alert:
            enqueue_event_notifications(session, config, event_id, comparison, report_path)
    log.info("event %d reported: %s%s", event_id, comparison.headline, " (e-mail queued)" if queued else "")
    return True


def drift_findings(session: Session, comparison: EventComparison) -> list[str]:
    """What changed against the previous run of the same model and suite version.

    A significant score change (the paired test, Holm-adjusted across the suites), or a changed
    OpenAI `system_fingerprint` or resolved model behind the alias. Empty: nothing changed.
    """
    findings: list[str] = []
    for suite in comparison.suites:
        paired = suite.paired
        if paired is not None and paired.verdict in ("better", "worse"):
            p = paired.p_adjusted if paired.p_adjusted is not None else paired.p_value
            findings.append(
                f"{suite.suite}: {paired.verdict} by {paired.delta * 100:+.1f} points (p={p:.3g})"
            )
        if suite.baseline is None:
            continue
        now, before = session.get(Run, suite.candidate.run_id), session.get(Run, suite.baseline.run_id)
        if now is None or before is None:
            continue
        for label, new, old in (
            ("system_fingerprint", now.system_fingerprint, before.system_fingerprint),
            ("resolved model", now.resolved_model, before.resolved_model),
        ):
            if new and old and new != old:
                change = f"{label} {old} -> {new}"
                if change not in findings:
                    findings.append(change)
    return findings


# ---- drift ------------------------------------------------------------------------------------


def drift_targets(config: Config) -> dict[str, list[str] | None]:
    """Model key -> the suites to rerun (None: the default suites) for the baselines and watched aliases."""
    targets: dict[str, list[str] | None] = {}
    for key in config.baseline.default:
        targets[key] = None
    for suite, keys in config.baseline.suites.items():
        for key in keys:
            current = targets.get(key, [])
            if current is not None and suite not in current:
                targets[key] = [*current, suite]
    watched = list(config.schedule.watch)
    watched += [f"{name}:{model}" for name, provider in config.providers.items() for model in provider.watch]
    for key in watched:
        targets[key] = None
    return targets


def start_drift_check(db: Database, config: Config, *, fence: Fence | None = None) -> list[int]:
    """Open a drift event per target and queue its runs (trigger "drift"); returns the new event ids.

    A target whose previous drift check is still unfinished, or whose model the provider no longer
    lists, is skipped. The open check is unique per model in the database, so a process racing
    another one skips the target instead of opening a second check; `fence` (the leader term) is
    checked in each event's transaction, so a deposed leader opens nothing (`LeaseLost`).
    """
    from monitor.evals.loader import load_suites
    from monitor.pipeline.queue import enqueue_runs

    started: list[int] = []
    for key, suite_names in drift_targets(config).items():
        provider, _, model_id = key.partition(":")
        with db.session() as session:
            if _drift_open(session, provider, model_id) or _removed(session, provider, model_id):
                log.info("drift: %s skipped (a check is still running, or the model is removed)", key)
                continue
            specs = list(
                load_suites(
                    config.suites_dir,
                    suite_names or config.suites.default or None,
                    default_judge=config.judge.model,
                )
            )
            if not specs:
                continue
            event_id = _open_drift_event(session, provider, model_id)
            if event_id is None:
                log.info("drift: %s skipped (another process opened its check just now)", key)
                continue
            enqueue_runs(
                session,
                config,
                provider=provider,
                model_id=model_id,
                trigger="drift",
                event_id=event_id,
                suites=specs,
            )
            if fence is not None:
                fence.check(session)
            started.append(event_id)
    return started


def _open_drift_event(session: Session, provider: str, model_id: str) -> int | None:
    """Insert the open drift event, or nothing when one is open already (the unique index decides)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Event)
        .values(kind="drift", provider=provider, model_id=model_id, detail={"status": "pending"})
        .on_conflict_do_nothing(
            index_elements=[Event.provider, Event.model_id],
            index_where=(Event.kind == "drift") & Event.reported_at.is_(None),
        )
        .returning(Event.id)
    )
    return session.scalar(stmt)


def _drift_open(session: Session, provider: str, model_id: str) -> bool:
    query = select(Event.id).where(
        Event.kind == "drift",
        Event.provider == provider,
        Event.model_id == model_id,
        Event.reported_at.is_(None),
    )
    return session.scalar(query.limit(1)) is not None


def _removed(session: Session, provider: str, model_id: str) -> bool:
    query = select(Model.removed_at).where(Model.provider == provider, Model.model_id == model_id)
    return session.scalar(query) is not None


# ---- removed / returned models -----------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    kind: str
    model_key: str
    when: str
    what: str


class _RaceLost(Exception):
    """Raised inside a transaction to roll it back when another process got there first."""


def notify_availability(db: Database, config: Config) -> list[int]:
    """One notice for the unreported removed/returned/deprecation events, marked reported with it."""
    try:
        return _notify_availability(db, config)
    except _RaceLost:
        return []


def _notify_availability(db: Database, config: Config) -> list[int]:
    with db.session() as session:
        events = list(
            session.scalars(
                select(Event)
                .where(Event.kind.in_(AVAILABILITY_KINDS), Event.reported_at.is_(None))
                .order_by(Event.id)
            )
        )
        if not events:
            return []
        ids = [e.id for e in events]
        won = session.execute(
            update(Event)
            .where(Event.id.in_(ids), Event.reported_at.is_(None))
            .values(reported_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) != len(ids):
            raise _RaceLost  # another process reported some of them: undo ours, it sends the notice
        if config.email is not None:
            from monitor.pipeline.deliver.mailer import enqueue

            changes = [
                _Change(e.kind, e.model_key, e.created_at.strftime("%Y-%m-%d %H:%M UTC"), _what(e))
                for e in events
            ]
            message = _availability_message(config, changes)
            enqueue(
                session, config.email, message, dedupe_key=f"availability:{ids[0]}-{ids[-1]}", event_id=ids[0]
            )
        from monitor.pipeline.deliver.notify import enqueue_availability_notifications

        lines = [f"{e.model_key}: {_what(e)}" for e in events]
        enqueue_availability_notifications(session, config, events, lines)
    log.info("reported %d removed/returned model event(s)", len(ids))
    return ids


def _what(event: Event) -> str:
    """What changed, in words (deprecation fields as `field: old -> new`)."""
    if event.kind == "removed_model":
        return "no longer listed"
    if event.kind == "returned_model":
        return "listed again"
    changes = (event.detail or {}).get("changes") or {}
    described = [
        f"{field}: {pair[0]} -> {pair[1]}"
        if isinstance(pair, list) and len(pair) == 2
        else f"{field} changed"
        for field, pair in sorted(changes.items())
    ]
    return "deprecation details changed" + (f" ({'; '.join(described)})" if described else "")


def _availability_message(config: Config, changes: list[_Change]) -> Any:
    from monitor.pipeline.deliver.message import clean_text, new_message

    assert config.email is not None
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in AVAILABILITY_KINDS}
    labels = {
        "removed_model": "removed",
        "returned_model": "listed again",
        "deprecation_changed": "deprecation notice",
    }
    parts = [f"{counts[kind]} {labels[kind]}" for kind in AVAILABILITY_KINDS if counts[kind]]
    message = new_message(config.email, "models: " + ", ".join(parts))
    lines = []
    rows = []
    for change in changes:
        model = clean_text(change.model_key, 300)
        what = clean_text(change.what, 500)
        lines.append(f"- {model}: {what} (since {change.when})")
        rows.append(
            f"<tr><td style='padding:4px 8px'>{html.escape(model)}</td>"
            f"<td style='padding:4px 8px'>{html.escape(what)}</td>"
            f"<td style='padding:4px 8px'>{change.when}</td></tr>"
        )
    intro = (
        "The providers' model lists changed (a model missing from two complete polls counts as "
        "removed; deprecation details come from the providers' own metadata):"
    )
    message.set_content(intro + "\n\n" + "\n".join(lines) + "\n")
    message.add_alternative(
        f"<p>{html.escape(intro)}</p><table style='border-collapse:collapse'>{''.join(rows)}</table>",
        subtype="html",
    )
    return message
