"""Build the report view models (event, run, index) from the database rows."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload

from monitor.core.errors import InputError
from monitor.evals.spec import shown_answer
from monitor.evals.variants import split_name
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.compare.runs import stats_from
from monitor.pipeline.report.board_stats import board_stats
from monitor.pipeline.report.charts import ChartPoint, ChartSeries, line_chart, series_color
from monitor.pipeline.report.files import event_report_path, run_report_path
from monitor.pipeline.report.formats import fmt_pct, fmt_time
from monitor.pipeline.report.grades import grade_lines, status_of
from monitor.pipeline.report.text import ERROR_TEXT_LIMIT, RUN_TEXT_LIMIT, clip, prompt_text
from monitor.pipeline.report.variants import variant_tables
from monitor.pipeline.report.views import (
    BoardRow,
    ErrorCount,
    EventInfo,
    EventReport,
    HistoryRow,
    IndexReport,
    ReportLink,
    RunLine,
    RunReport,
    SampleRow,
    SuiteBoard,
)
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Event, Report, Result, Run, Sample, Suite

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.pipeline.compare.runs import RunStats
    from monitor.pipeline.compare.summary import EventComparison

# What a RunLine reads of a run: the index lists every run, so their params and plans stay unread.
LINE_ONLY = (
    load_only(
        Run.id,
        Run.provider,
        Run.model_id,
        Run.suite_id,
        Run.status,
        Run.trigger,
        Run.score,
        Run.error,
        Run.estimated_cost_usd,
        Run.created_at,
        Run.finished_at,
    ),
    selectinload(Run.suite),
)
# Events recorded within this time of each other came from the same poll.
SAME_POLL_WINDOW = timedelta(minutes=5)
RECENT_EVENTS = 30
# Each suite's score history (chart and table) shows its newest finished runs, this many at most.
HISTORY_RUNS = 500
# Statuses whose runs have (or had) results worth a report.
REPORTABLE_STATUSES = ("running", "interrupted", *COMPLETED, "failed")


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


def _shared_line(run: Run, lines: dict[int, RunLine]) -> RunLine:
    """`_run_line(run)`, made once per run for the index (a run shows on its board, history and list)."""
    line = lines.get(run.id)
    if line is None:
        line = lines[run.id] = _run_line(run)
    return line


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


def build_event_report(
    session: Session, config: Config, event_id: int, *, comparison: EventComparison | None = None
) -> EventReport:
    """The event, the other events of the same poll, its comparison (when runs finished: `comparison`
    when the caller computed it, else computed now) and errors."""
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
    if not runs:
        comparison = None
    elif comparison is None:
        comparison = compare_event(session, config, event.id)
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
        variants=variant_tables(comparison),
    )


def build_run_report(session: Session, run_id: int, *, stats: RunStats | None = None) -> RunReport:
    """A run's statistics (`stats` when the caller computed them from the same rows, else from the
    results read here, once) and each result with its prompt, target, answer, grades, latency and tokens."""
    run = _get_run(session, run_id)
    samples = {
        s.key: s
        for s in session.scalars(
            select(Sample).where(Sample.suite_id == run.suite_id).order_by(Sample.position)
        )
    }
    results = list(session.scalars(select(Result).where(Result.run_id == run.id).order_by(Result.id)))
    if stats is None:
        stats = stats_from(run, results, samples)
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
                status=status_of(result),
                score=result.score,
                prompt=clip(prompt_text(sample.messages if sample else None), RUN_TEXT_LIMIT),
                target=clip(sample.target if sample else None, RUN_TEXT_LIMIT),
                output=clip(shown_answer(result.output, result.tool_calls), RUN_TEXT_LIMIT),
                grades=grade_lines(result.grades),
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
        stats=stats,
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
    done = session.execute(
        select(Run.provider, Run.model_id).where(Run.status.in_(COMPLETED)).distinct()
    ).all()
    keys = sorted(f"{provider}:{model_id}" for provider, model_id in done)
    baselines = [b for b in config.baseline.default if b in keys]
    ordered = list(dict.fromkeys(baselines + keys))
    return {key: series_color(i) for i, key in enumerate(ordered)}


def _done_order(run: Run) -> tuple[bool, float, int]:
    """The order runs finished in (unfinished first, by id): `finished_at NULLS FIRST, id`."""
    return (run.finished_at is not None, run.finished_at.timestamp() if run.finished_at else 0.0, run.id)


def _board(
    session: Session, config: Config, name: str, colors: dict[str, str], lines: dict[int, RunLine]
) -> SuiteBoard | None:
    versions = list(
        session.scalars(
            select(Suite).where(Suite.name == name).order_by(Suite.created_at.desc(), Suite.id.desc())
        )
    )
    ids = [v.id for v in versions]
    with_runs = set(
        session.scalars(
            select(Run.suite_id).where(Run.suite_id.in_(ids), Run.status.in_(COMPLETED)).distinct()
        )
    )
    current = next((v for v in versions if v.id in with_runs), None)
    if current is None:
        return None
    latest: dict[str, Run] = {}
    for run in session.scalars(
        select(Run)
        .where(Run.suite_id == current.id, Run.status.in_(COMPLETED))
        .order_by(Run.finished_at.nulls_first(), Run.id)
    ):
        latest[run.model_key] = run
    stats = sorted(
        board_stats(session, list(latest.values()), current.id),
        key=lambda s: (-(s.score.mean if s.score.mean is not None else -1.0), s.model_key),
    )
    newest = session.scalars(
        select(Run)
        .options(*LINE_ONLY)
        .where(Run.suite_id.in_(ids), Run.status.in_(COMPLETED), Run.score.is_not(None))
        .order_by(func.coalesce(Run.finished_at, Run.created_at).desc(), Run.id.desc())
        .limit(HISTORY_RUNS)
    )
    history: dict[str, list[Run]] = {}
    for run in sorted(newest, key=_done_order):
        history.setdefault(run.model_key, []).append(run)
    series = [
        ChartSeries(
            name=key,
            color=colors[key],
            points=[
                ChartPoint(
                    when=r.finished_at or r.created_at,
                    score=float(r.score or 0.0),
                    value=fmt_pct(r.score),
                    label=f"{key} · {fmt_pct(r.score)} · version {r.suite.version[:12]} · "
                    f"{fmt_time(r.finished_at or r.created_at)}",
                )
                for r in runs
            ],
        )
        for key, runs in sorted(history.items())
    ]
    baselines = set(config.baseline.for_suite(split_name(name)[0]))
    rows = [
        BoardRow(
            i, s, _shared_line(latest[s.model_key], lines), colors[s.model_key], s.model_key in baselines
        )
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
        history=[
            HistoryRow(_shared_line(r, lines), colors[r.model_key])
            for r in sorted(
                (r for runs in history.values() for r in runs),
                key=lambda r: (r.finished_at or r.created_at, r.id),
                reverse=True,
            )
        ],
        older_versions=len([v for v in versions if v.id != current.id and v.id in with_runs]),
    )


def build_index(session: Session, config: Config) -> IndexReport:
    """Leaderboards per suite, recent events, and every report written so far."""
    names = sorted(set(session.scalars(select(Suite.name))))
    colors = _model_colors(session, config)
    lines: dict[int, RunLine] = {}
    boards = [b for b in (_board(session, config, n, colors, lines) for n in names) if b is not None]
    events = session.scalars(
        select(Event).order_by(Event.created_at.desc(), Event.id.desc()).limit(RECENT_EVENTS)
    )
    runs = session.scalars(
        select(Run)
        .options(*LINE_ONLY)
        .where(Run.status != "queued")
        .order_by(Run.created_at.desc(), Run.id.desc())
    )
    written = set(session.scalars(select(Report.path)))
    return IndexReport(
        boards=boards,
        events=[_event_info(e) for e in events],
        runs=[_shared_line(r, lines) for r in runs],
        written=written,
    )
