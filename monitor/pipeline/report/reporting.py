"""Build the report data (event, run, index) from the database and write it as self-contained HTML."""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from monitor.core.errors import InputError
from monitor.pipeline.compare.comparison import EventComparison, RunStats, compare_event, run_stats
from monitor.pipeline.compare.wording import VERDICT_CLASS, points, points_interval, verdict_lines
from monitor.pipeline.report.charts import ChartPoint, ChartSeries, line_chart, series_color
from monitor.pipeline.report.files import inside, safe_filename, write_atomic
from monitor.store.tables import Event, Report, Result, Run, Sample, Suite

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.store.db import Database

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Events recorded within this time of each other came from the same poll.
SAME_POLL_WINDOW = timedelta(minutes=5)
RUN_TEXT_LIMIT = 2_000
FLIP_TEXT_LIMIT = 400
ERROR_TEXT_LIMIT = 300
FLIPS_SHOWN = 25
RECENT_EVENTS = 30
# Statuses whose runs have (or had) results worth a report.
REPORTABLE_STATUSES = ("running", "interrupted", "done", "failed")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


# ---- text shown from untrusted model output ------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """Untrusted text made safe to show: bounded, control and direction characters made visible."""

    text: str
    total: int
    shown: int
    truncated: bool


def clip(value: Any, limit: int) -> Clip:
    """At most `limit` characters of `value`; control and bidi-override characters shown as escapes.

    HTML escaping is left to the template's autoescape; this bounds the size and keeps invisible
    characters (right-to-left overrides, NUL, bell...) from disguising what a model answered.
    """
    text = value if isinstance(value, str) else display_value(value)
    head = text[:limit]
    head = _SURROGATE.sub("\ufffd", head)
    head = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", head)
    head = _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", head)
    return Clip(head, len(text), min(limit, len(text)), len(text) > limit)


def display_value(value: Any) -> str:
    """A target, choice list or grade value as readable text (JSON for structures)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def prompt_text(messages: list[Any] | None) -> str:
    """The messages sent, one per paragraph, each prefixed with its role."""
    lines = []
    for message in messages or []:
        if not isinstance(message, dict):
            lines.append(display_value(message))
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
        lines.append(f"{message.get('role', '?')}: {display_value(content)}")
    return "\n\n".join(lines)


# ---- number formats (Jinja filters) -----------------------------------------------------------


def fmt_pct(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value * 100:.1f}%"


def fmt_interval(interval: Any) -> str:
    if interval is None:
        return ""
    return f"{max(interval.low, 0.0) * 100:.1f}–{min(interval.high, 1.0) * 100:.1f}%"


def fmt_p(value: float | None) -> str:
    """A p-value for a table cell whose header says p: `0.012` or `< 0.001`."""
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "cost unknown"
    if value == 0:
        return "$0"
    return f"${value:,.4f}" if abs(value) < 0.01 else f"${value:,.2f}"


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def fmt_int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def fmt_time(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def fmt_score(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


# ---- report data ------------------------------------------------------------------------------


@dataclass
class ReportLink:
    """A link to another report; `path` is relative to the reports directory (POSIX separators)."""

    label: str
    path: str


@dataclass
class EventInfo:
    """An event as shown in a report."""

    id: int
    kind: str
    provider: str
    model_id: str
    model_key: str
    created_at: datetime
    detail: dict[str, Any]
    path: str


@dataclass
class RunLine:
    """One run named in a report: what it evaluated and how it ended."""

    id: int
    model_key: str
    suite: str
    suite_version: str
    status: str
    trigger: str
    score: float | None
    error: str | None
    estimated_cost_usd: float | None
    finished_at: datetime | None
    path: str


@dataclass
class ErrorCount:
    """How many results failed with one error kind, with one example message."""

    kind: str
    count: int
    example: str | None


@dataclass
class EventReport:
    """Everything the event report (and the e-mail that carries it) shows about one event."""

    event: EventInfo
    related: list[EventInfo]
    comparison: EventComparison | None
    runs: list[RunLine]
    errors: list[ErrorCount]
    headline: str
    links: list[ReportLink]
    path: str
    findings: list[str] = field(default_factory=list)


@dataclass
class GradeLine:
    name: str
    score: str
    passed: bool | None
    detail: Clip | None


@dataclass
class SampleRow:
    """One result of a run report."""

    anchor: str
    key: str
    repeat: int
    status: str  # passed | failed | errored
    score: float | None
    prompt: Clip
    target: Clip
    output: Clip
    grades: list[GradeLine]
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    error_kind: str | None
    error_message: Clip | None
    finish_reason: str | None


@dataclass
class RunReport:
    """A run with its statistics and every result."""

    run: RunLine
    stats: RunStats
    repeat: int
    resolved_model: str | None
    created_at: datetime
    started_at: datetime | None
    event: EventInfo | None
    rows: list[SampleRow]
    missing: int
    errors: list[ErrorCount]
    path: str


@dataclass
class BoardRow:
    rank: int
    stats: RunStats
    run: RunLine
    color: str
    baseline: bool


@dataclass
class SuiteBoard:
    """One suite's leaderboard (latest version with finished runs) and its score-history chart."""

    name: str
    version: str
    description: str | None
    sample_count: int
    rows: list[BoardRow]
    chart: Markup
    legend: list[tuple[str, str]]
    older_versions: int


@dataclass
class IndexReport:
    boards: list[SuiteBoard]
    events: list[EventInfo]
    runs: list[RunLine]
    written: set[str] = field(default_factory=set)
    path: str = "index.html"


def event_report_path(event: Event) -> str:
    return f"events/{safe_filename(f'{event.id}-{event.kind}-{event.model_key}')}.html"


def run_report_path(run: Run) -> str:
    return f"runs/{safe_filename(f'{run.id}-{run.model_key}-{run.suite.name}')}.html"


def _event_info(event: Event) -> EventInfo:
    return EventInfo(
        id=event.id,
        kind=event.kind,
        provider=event.provider,
        model_id=event.model_id,
        model_key=event.model_key,
        created_at=event.created_at,
        detail=dict(event.detail or {}),
        path=event_report_path(event),
    )


def _run_line(run: Run) -> RunLine:
    return RunLine(
        id=run.id,
        model_key=run.model_key,
        suite=run.suite.name,
        suite_version=run.suite.version,
        status=run.status,
        trigger=run.trigger,
        score=run.score,
        error=run.error,
        estimated_cost_usd=run.estimated_cost_usd,
        finished_at=run.finished_at,
        path=run_report_path(run),
    )


def _error_counts(session: Session, run_ids: list[int]) -> list[ErrorCount]:
    if not run_ids:
        return []
    rows = session.execute(
        select(Result.error_kind, func.count(), func.min(Result.id))
        .where(Result.run_id.in_(run_ids), Result.error_kind.is_not(None))
        .group_by(Result.error_kind)
    ).all()
    counts = []
    for kind, count, first_id in rows:
        example = session.get(Result, first_id)
        counts.append(ErrorCount(str(kind), int(count), example.error_message if example else None))
    return sorted(counts, key=lambda c: (-c.count, c.kind))


def _get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise InputError(f"no event with id {event_id}")
    return event


def _get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise InputError(f"no run with id {run_id}; 'model-monitor runs' lists them")
    return run


def _fallback_headline(event: Event, runs: list[Run]) -> str:
    key = event.model_key
    if event.kind == "removed_model":
        return f"{key} is no longer listed by {event.provider}"
    if event.kind == "returned_model":
        return f"{key} is listed by {event.provider} again"
    skipped = [r for r in runs if r.status == "skipped"]
    if skipped:
        return f"{key} appeared; evaluation skipped ({skipped[0].error or 'over budget'})"
    if runs:
        return f"{key}: evaluation not finished yet"
    if event.kind == "new_model":
        return f"{key} appeared at {event.provider}; no suite has run on it yet"
    return f"{key}: {event.kind.replace('_', ' ')}"


def build_event_report(session: Session, config: Config, event_id: int) -> EventReport:
    """The event, the other events of the same poll, its comparison (when runs finished) and errors."""
    event = _get_event(session, event_id)
    related = session.scalars(
        select(Event)
        .where(
            Event.id != event.id,
            Event.created_at >= event.created_at - SAME_POLL_WINDOW,
            Event.created_at <= event.created_at + SAME_POLL_WINDOW,
        )
        .order_by(Event.created_at, Event.id)
    ).all()
    runs = list(session.scalars(select(Run).where(Run.event_id == event.id).order_by(Run.id)))
    comparison = compare_event(session, config, event.id) if runs else None
    if comparison is not None and not comparison.suites:
        comparison = None
    shown: dict[int, Run] = {r.id: r for r in runs}
    if comparison is not None:
        for suite in comparison.suites:
            for stats in (suite.candidate, suite.baseline):
                if stats is not None and stats.run_id not in shown:
                    shown[stats.run_id] = _get_run(session, stats.run_id)
    path = event_report_path(event)
    lines = [_run_line(r) for r in sorted(shown.values(), key=lambda r: (r.suite.name, r.id))]
    links = [ReportLink("this report", path), ReportLink("index of all reports", "index.html")]
    links += [
        ReportLink(f"run {line.id}: {line.model_key} on {line.suite}", line.path)
        for line in lines
        if line.status in REPORTABLE_STATUSES
    ]
    headline = comparison.headline if comparison is not None else _fallback_headline(event, runs)
    found = (event.detail or {}).get("findings") if event.kind == "drift" else None
    findings = [str(f) for f in found] if isinstance(found, list) else []
    if findings:
        headline = f"{headline}; drift: {'; '.join(findings)}"
    return EventReport(
        event=_event_info(event),
        related=[_event_info(e) for e in related],
        comparison=comparison,
        runs=lines,
        errors=_error_counts(session, [r.id for r in runs]),
        headline=headline,
        links=links,
        path=path,
        findings=findings,
    )


def _status_of(result: Result) -> str:
    if result.error_kind is not None or result.score is None:
        return "errored"
    return "passed" if result.passed else "failed"


def _grade_lines(grades: list[Any]) -> list[GradeLine]:
    lines = []
    for grade in grades or []:
        if not isinstance(grade, dict):
            lines.append(GradeLine("grade", "", None, clip(grade, ERROR_TEXT_LIMIT)))
            continue
        name = grade.get("grader") or grade.get("type") or grade.get("name") or "grade"
        detail = next(
            (grade[k] for k in ("reason", "reasoning", "explanation", "detail", "message") if grade.get(k)),
            None,
        )
        score = grade.get("score")
        passed = grade.get("passed")
        lines.append(
            GradeLine(
                name=str(name),
                score=fmt_score(score) if isinstance(score, int | float) else "",
                passed=passed if isinstance(passed, bool) else None,
                detail=clip(detail, ERROR_TEXT_LIMIT) if detail is not None else None,
            )
        )
    return lines


def build_run_report(session: Session, run_id: int) -> RunReport:
    """A run's statistics and each result with its prompt, target, answer, grades, latency and tokens."""
    run = _get_run(session, run_id)
    samples = {
        s.key: s
        for s in session.scalars(
            select(Sample).where(Sample.suite_id == run.suite_id).order_by(Sample.position)
        )
    }
    results = list(session.scalars(select(Result).where(Result.run_id == run.id)))
    order = {key: i for i, key in enumerate(samples)}
    results.sort(key=lambda r: (order.get(r.sample_key, len(order)), r.sample_key, r.repeat))
    rows = []
    for index, result in enumerate(results, start=1):
        sample = samples.get(result.sample_key)
        rows.append(
            SampleRow(
                anchor=f"sample-{index}",
                key=result.sample_key,
                repeat=result.repeat,
                status=_status_of(result),
                score=result.score,
                prompt=clip(prompt_text(sample.messages if sample else None), RUN_TEXT_LIMIT),
                target=clip(sample.target if sample else None, RUN_TEXT_LIMIT),
                output=clip(result.output or "", RUN_TEXT_LIMIT),
                grades=_grade_lines(result.grades),
                latency_ms=result.latency_ms,
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
                cost_usd=result.cost_usd,
                error_kind=result.error_kind,
                error_message=clip(result.error_message, ERROR_TEXT_LIMIT) if result.error_message else None,
                finish_reason=result.finish_reason,
            )
        )
    answered = {r.sample_key for r in results}
    return RunReport(
        run=_run_line(run),
        stats=run_stats(session, run.id),
        repeat=run.repeat,
        resolved_model=run.resolved_model,
        created_at=run.created_at,
        started_at=run.started_at,
        event=_event_info(run.event) if run.event is not None else None,
        rows=rows,
        missing=len([k for k in samples if k not in answered]),
        errors=_error_counts(session, [run.id]),
        path=run_report_path(run),
    )


def _model_colors(session: Session, config: Config) -> dict[str, str]:
    """One colour per model across every chart: baselines first, then the rest by name."""
    done = session.execute(select(Run.provider, Run.model_id).where(Run.status == "done").distinct()).all()
    keys = sorted(f"{provider}:{model_id}" for provider, model_id in done)
    baselines = [b for b in config.baseline.default if b in keys]
    ordered = list(dict.fromkeys(baselines + keys))
    return {key: series_color(i) for i, key in enumerate(ordered)}


def _board(session: Session, config: Config, name: str, colors: dict[str, str]) -> SuiteBoard | None:
    versions = list(
        session.scalars(
            select(Suite).where(Suite.name == name).order_by(Suite.created_at.desc(), Suite.id.desc())
        )
    )
    done = list(
        session.scalars(
            select(Run)
            .join(Suite, Run.suite_id == Suite.id)
            .where(Suite.name == name, Run.status == "done")
            .order_by(Run.finished_at.nulls_first(), Run.id)
        )
    )
    with_runs = {r.suite_id for r in done}
    current = next((v for v in versions if v.id in with_runs), None)
    if current is None:
        return None
    latest: dict[str, Run] = {}
    for run in done:
        if run.suite_id == current.id:
            latest[run.model_key] = run
    stats = sorted(
        (run_stats(session, r.id) for r in latest.values()),
        key=lambda s: (-(s.score.mean if s.score.mean is not None else -1.0), s.model_key),
    )
    history: dict[str, list[Run]] = {}
    for run in done:
        if run.score is not None:
            history.setdefault(run.model_key, []).append(run)
    series = [
        ChartSeries(
            name=key,
            color=colors[key],
            points=[
                ChartPoint(
                    when=r.finished_at or r.created_at,
                    score=float(r.score or 0.0),
                    label=f"{key} · {fmt_pct(r.score)} · version {r.suite.version[:12]} · "
                    f"{fmt_time(r.finished_at or r.created_at)}",
                )
                for r in runs
            ],
        )
        for key, runs in sorted(history.items())
    ]
    baselines = set(config.baseline.for_suite(name))
    rows = [
        BoardRow(i, s, _run_line(latest[s.model_key]), colors[s.model_key], s.model_key in baselines)
        for i, s in enumerate(stats, start=1)
    ]
    return SuiteBoard(
        name=name,
        version=current.version,
        description=current.description,
        sample_count=current.sample_count,
        rows=rows,
        chart=line_chart(series, f"Score history on {name}"),
        legend=[(s.name, s.color) for s in series],
        older_versions=len([v for v in versions if v.id != current.id and v.id in with_runs]),
    )


def build_index(session: Session, config: Config) -> IndexReport:
    """Leaderboards per suite, recent events, and every report written so far."""
    names = sorted(set(session.scalars(select(Suite.name))))
    colors = _model_colors(session, config)
    boards = [b for b in (_board(session, config, n, colors) for n in names) if b is not None]
    events = session.scalars(
        select(Event).order_by(Event.created_at.desc(), Event.id.desc()).limit(RECENT_EVENTS)
    )
    runs = session.scalars(
        select(Run).where(Run.status != "queued").order_by(Run.created_at.desc(), Run.id.desc())
    )
    written = set(session.scalars(select(Report.path)))
    return IndexReport(
        boards=boards,
        events=[_event_info(e) for e in events],
        runs=[_run_line(r) for r in runs],
        written=written,
    )


# ---- rendering and writing --------------------------------------------------------------------


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment for reports: autoescape on, undefined names are errors."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        pct=fmt_pct,
        interval=fmt_interval,
        pts=points,
        pts_interval=points_interval,
        pval=fmt_p,
        verdict_lines=verdict_lines,
        verdict_class=lambda verdict: VERDICT_CLASS.get(verdict, "same"),
        usd=fmt_usd,
        ms=fmt_ms,
        num=fmt_int,
        when=fmt_time,
        score=fmt_score,
        clip=clip,
    )
    env.globals.update(
        FLIPS_SHOWN=FLIPS_SHOWN,
        FLIP_TEXT_LIMIT=FLIP_TEXT_LIMIT,
        RUN_TEXT_LIMIT=RUN_TEXT_LIMIT,
    )
    return env


def render_event_report(report: EventReport) -> str:
    return environment().get_template("event.html.j2").render(report=report, root="../")


def render_run_report(report: RunReport) -> str:
    return environment().get_template("run.html.j2").render(report=report, root="../")


def render_index(report: IndexReport) -> str:
    return environment().get_template("index.html.j2").render(report=report, root="")


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
    path = inside(config.reports_dir, relative)
    write_atomic(path, html.encode("utf-8"))
    return path


def _write_run(session: Session, config: Config, run_id: int) -> Path:
    report = build_run_report(session, run_id)
    path = _write(config, report.path, render_run_report(report))
    _record(session, "run", report.path, report.event.id if report.event else None, [run_id])
    return path


def _write_event(session: Session, config: Config, event_id: int, runs_written: set[int]) -> Path:
    """Write the event report, first writing the linked run reports not in `runs_written`."""
    report = build_event_report(session, config, event_id)
    for line in report.runs:
        if line.status in REPORTABLE_STATUSES and line.id not in runs_written:
            _write_run(session, config, line.id)
            runs_written.add(line.id)
    path = _write(config, report.path, render_event_report(report))
    _record(session, "event", report.path, event_id, [line.id for line in report.runs])
    return path


def write_run_report(db: Database, config: Config, run_id: int) -> Path:
    """Write `reports/runs/<safe>.html` for one run and record it; returns its path."""
    with db.session() as session:
        return _write_run(session, config, run_id)


def write_event_report(db: Database, config: Config, event_id: int) -> Path:
    """Write `reports/events/<safe>.html` (and the reports of the runs it links to); returns its path."""
    with db.session() as session:
        return _write_event(session, config, event_id, set())


def write_index(db: Database, config: Config) -> Path:
    """Write `reports/index.html` from what the database holds now; returns its path."""
    with db.session() as session:
        report = build_index(session, config)
        path = _write(config, report.path, render_index(report))
        _record(session, "index", report.path, None, [])
        return path


def write_all(db: Database, config: Config) -> list[Path]:
    """Every run report, every event report, then the index; unchanged files keep their bytes."""
    paths: list[Path] = []
    with db.session() as session:
        run_ids = session.scalars(
            select(Run.id).where(Run.status.in_(REPORTABLE_STATUSES)).order_by(Run.id)
        ).all()
        paths += [_write_run(session, config, run_id) for run_id in run_ids]
        runs_written = set(run_ids)
        for event_id in session.scalars(select(Event.id).order_by(Event.id)).all():
            paths.append(_write_event(session, config, event_id, runs_written))
    paths.append(write_index(db, config))
    return paths
