"""Queue chat and webhook notifications: which [[notify]] targets hear of an event, in what words and JSON.

Each matching target gets one `notifications` row per event (dedupe key `event:<id>:<target>`),
added in the caller's transaction: the one that marks the event reported and queues its e-mail,
so a notification is queued exactly when the e-mail is. The row names the target; its URL stays
in the environment. What each `on` kind means is in docs/notifications.md:

- new_model: every reported new-model event;
- regression: a new-model or drift event with at least one significant "worse" verdict;
- drift: a drift check that found a change (the same events the drift e-mail goes out for);
- retirement: an event of kind `retirement` (a migration report), and a notice of removed models
  or changed deprecation details;
- skipped: an event with at least one run the cost guard skipped (over budget, or priced at the bound).

`only_significant` holds back new_model and drift messages unless a suite's verdict is better or
worse; regression, retirement and skipped messages are the news themselves and always go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitor.pipeline.compare.jsonable import to_jsonable
from monitor.pipeline.compare.wording import p_text, points
from monitor.pipeline.deliver.message import clean_text, event_subject
from monitor.stats.verdicts import VERDICT_BETTER, VERDICT_WORSE
from monitor.store.tables import Event, Notification, Run

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.core.config_outputs import NotifyConfig
    from monitor.pipeline.compare.summary import EventComparison

# When an event counts as several kinds, the message is told as the most specific one a target wants.
KIND_ORDER = ("regression", "drift", "retirement", "skipped", "new_model")
ALWAYS_TOLD = ("regression", "retirement", "skipped")  # not held back by only_significant
TITLE_LEAD = {
    "regression": "Regression: ",
    "drift": "",  # the subject already starts with "drift: "
    "retirement": "Retirement: ",
    "skipped": "Runs skipped: ",
    "new_model": "New model: ",
}
SUITES_SHOWN = 20
LINE_MAX = 300
TITLE_MAX = 250


def event_kinds(event_kind: str, comparison: EventComparison, skipped: bool) -> set[str]:
    """The `on` kinds a reported event counts as (see the module docstring)."""
    kinds = {event_kind} & {"new_model", "drift", "retirement"}
    if event_kind in ("new_model", "drift") and comparison.worse:
        kinds.add("regression")
    if skipped:
        kinds.add("skipped")
    return kinds


def told_as(target: NotifyConfig, kinds: set[str], significant: bool) -> str | None:
    """The kind `target` is told the event as, or None when its filter says nothing."""
    wanted = [kind for kind in KIND_ORDER if kind in kinds and kind in target.on]
    if not wanted:
        return None
    if target.only_significant and not significant:
        wanted = [kind for kind in wanted if kind in ALWAYS_TOLD]
    return wanted[0] if wanted else None


def significant(comparison: EventComparison) -> bool:
    """Whether any suite's (Holm-adjusted) verdict is better or worse."""
    return any(
        s.paired is not None and s.paired.verdict in (VERDICT_BETTER, VERDICT_WORSE)
        for s in comparison.suites
    )


def report_url(config: Config, report_path: Path | None) -> str | None:
    """`[reports] base_url` + the report's path inside the reports directory; None without either."""
    base = config.reports.base_url
    if base is None or report_path is None:
        return None
    try:
        relative = Path(report_path).resolve().relative_to(config.reports_dir.resolve())
    except ValueError:
        return None
    return base.rstrip("/") + "/" + relative.as_posix()


def _skipped_runs(session: Session, event_id: int) -> list[dict[str, Any]]:
    runs = session.scalars(
        select(Run).where(Run.event_id == event_id, Run.status == "skipped").order_by(Run.id)
    )
    return [{"run_id": r.id, "suite": r.suite.name, "reason": r.error or "over budget"} for r in runs]


def _suite_line(suite: Any) -> str:
    paired = suite.paired
    if paired is None:
        return f"- {suite.suite}: not compared" + (f" ({suite.note})" if suite.note else "")
    p = paired.p_adjusted if paired.p_adjusted is not None else paired.p_value
    return f"- {suite.suite}: {paired.verdict} ({points(paired.delta)}, {p_text(p)})"


def event_text(
    comparison: EventComparison,
    *,
    kind: str,
    event_kind: str,
    skipped: list[dict[str, Any]],
    url: str | None,
) -> tuple[str, str]:
    """(title, body): the headline, one line per suite, the skipped runs and the report's link."""
    title = clean_text(TITLE_LEAD.get(kind, "") + event_subject(comparison, event_kind), TITLE_MAX)
    lines = [clean_text(comparison.headline, 500)]
    lines += [clean_text(_suite_line(s), LINE_MAX) for s in comparison.suites[:SUITES_SHOWN]]
    hidden = len(comparison.suites) - SUITES_SHOWN
    if hidden > 0:
        lines.append(f"- and {hidden} more suite(s) in the report")
    for run in skipped:
        lines.append(
            clean_text(
                f"- skipped: run {run['run_id']} on {run['suite']}: {run['reason']} "
                f"(`model-monitor resume {run['run_id']} --yes` runs it)",
                LINE_MAX,
            )
        )
    if url:
        lines.append(f"Report: {url}")
    return title, "\n".join(lines)


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "provider": event.provider,
        "model_id": event.model_id,
        "model": event.model_key,
        "created_at": event.created_at.isoformat(),
    }


def _plain(data: Any) -> Any:
    """JSON-safe data for the payload column (dates as ISO text)."""
    return json.loads(
        json.dumps(data, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    )


def enqueue_event_notifications(
    session: Session,
    config: Config,
    event_id: int,
    comparison: EventComparison,
    report_path: Path | None,
) -> int:
    """Queue one notification per target whose filter matches the event; returns how many were queued.

    Works for any event kind the completion reports (new_model, drift, retirement...); call it in
    the transaction that sets `reported_at`.
    """
    targets = config.notify_targets()
    event = session.get(Event, event_id)
    if not targets or event is None:
        return 0
    skipped = _skipped_runs(session, event_id)
    kinds = event_kinds(event.kind, comparison, bool(skipped))
    is_significant = significant(comparison)
    url = report_url(config, report_path)
    event_data, comparison_data = _event_json(event), to_jsonable(comparison)  # the same for every target
    queued = 0
    for name, target in targets:
        kind = told_as(target, kinds, is_significant)
        if kind is None:
            continue
        title, body = event_text(comparison, kind=kind, event_kind=event.kind, skipped=skipped, url=url)
        payload = {
            "kind": kind,
            "kinds": sorted(kinds),
            "title": title,
            "text": body,
            "event": event_data,
            "report_url": url,
            "skipped_runs": skipped,
            "comparison": comparison_data,
        }
        queued += _add(session, f"event:{event_id}:{name}", event_id, name, kind, title, body, payload)
    return queued


def enqueue_availability_notifications(
    session: Session, config: Config, events: Sequence[Event], lines: Sequence[str]
) -> int:
    """Queue the removed/returned/deprecation notice for the targets that want it (one row per target).

    A removed model or changed deprecation counts as `retirement`, a model listed again as `new_model`.
    """
    targets = config.notify_targets()
    if not targets or not events:
        return 0
    kinds = {"new_model" if e.kind == "returned_model" else "retirement" for e in events}
    ids = [e.id for e in events]
    title = clean_text(f"Model list changed: {len(events)} model(s)", TITLE_MAX)
    body = "\n".join(clean_text(f"- {line}", LINE_MAX) for line in lines)
    events_data = [_event_json(e) for e in events]
    queued = 0
    for name, target in targets:
        kind = told_as(target, kinds, True)  # a change of the list is news in itself
        if kind is None:
            continue
        payload = {
            "kind": kind,
            "kinds": sorted(kinds),
            "title": title,
            "text": body,
            "events": events_data,
        }
        key = f"availability:{ids[0]}-{ids[-1]}:{name}"
        queued += _add(session, key, ids[0], name, kind, title, body, payload)
    return queued


def _add(
    session: Session,
    dedupe_key: str,
    event_id: int,
    target: str,
    kind: str,
    title: str,
    body: str,
    payload: dict[str, Any],
) -> int:
    """Insert the row unless its dedupe key is queued already; 1 when inserted."""
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return 0
    row = Notification(
        dedupe_key=dedupe_key,
        event_id=event_id,
        target=target,
        kind=kind,
        title=title,
        body=body,
        payload=_plain(payload),
        status="pending",
        attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return 0
    return 1
