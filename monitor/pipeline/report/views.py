"""The view models the report templates render: the event, run and index pages and their parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markupsafe import Markup

    from monitor.pipeline.compare.runs import RunStats
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.pipeline.report.text import Clip
    from monitor.pipeline.report.variants import VariantTable


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
    variants: list[VariantTable] = field(default_factory=list)  # "Prompt variants", per suite with variants


@dataclass
class GradeLine:
    """One grader's verdict on a result: its name, score, pass/fail and reason."""

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
    """One model on a suite's leaderboard: its rank, latest finished run and chart colour."""

    rank: int
    stats: RunStats
    run: RunLine
    color: str
    baseline: bool


@dataclass
class HistoryRow:
    """One finished run in a suite's score history table, with its model's chart colour."""

    run: RunLine
    color: str


@dataclass
class SuiteBoard:
    """One suite's leaderboard (latest version with finished runs), its score-history chart and table."""

    name: str
    version: str
    description: str | None
    sample_count: int
    rows: list[BoardRow]
    chart: Markup
    legend: list[tuple[str, str]]
    older_versions: int
    history: list[HistoryRow] = field(default_factory=list)


@dataclass
class IndexReport:
    """The index page: leaderboards, recent events, and every run with the reports written."""

    boards: list[SuiteBoard]
    events: list[EventInfo]
    runs: list[RunLine]
    written: set[str] = field(default_factory=set)
    path: str = "index.html"
