"""The migration e-mail: a retiring model's date, each replacement's verdicts, cost, latency, the choice."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.core.errors import ConfigError
from monitor.pipeline.deliver.message import clean_text, mail_templates, new_message
from monitor.pipeline.report.formats import fmt_ms, fmt_usd

if TYPE_CHECKING:
    from monitor.core.config import Config
    from monitor.pipeline.compare.migration import CandidateResult, Migration

MODEL_MAX = 200


@dataclass
class SuiteLine:
    """One suite of one candidate, as display strings."""

    suite: str
    verdict: str
    difference: str
    cost: str
    latency: str


@dataclass
class CandidateView:
    """One candidate's lines in the e-mail."""

    model: str
    recommended: bool
    headline: str
    cost: str
    retiring_cost: str
    latency: str
    retiring_latency: str
    suites: list[SuiteLine]


def _points(value: float) -> str:
    return f"{value * 100:+.1f} pts"


def _candidate_view(result: CandidateResult, recommended: str | None) -> CandidateView:
    lines = []
    for s in result.comparison.suites:
        if s.paired is not None and s.paired.ci is not None:
            ci = s.paired.ci
            difference = f"{_points(s.paired.delta)} (95% CI {_points(ci.low)} to {_points(ci.high)})"
        else:
            difference = s.note or "not compared"
        lines.append(
            SuiteLine(
                suite=clean_text(s.suite, 200),
                verdict=s.paired.verdict if s.paired is not None else "not compared",
                difference=clean_text(difference, 300),
                cost=fmt_usd(s.candidate.cost_per_1k),
                latency=fmt_ms(s.candidate.latency_p50_ms),
            )
        )
    return CandidateView(
        model=clean_text(result.model, MODEL_MAX),
        recommended=result.model == recommended,
        headline=clean_text(result.comparison.headline, 500),
        cost=("at most " if result.cost_estimated else "") + fmt_usd(result.cost_per_1k),
        retiring_cost=fmt_usd(result.retiring_cost_per_1k),
        latency=fmt_ms(result.latency_p50_ms),
        retiring_latency=fmt_ms(result.retiring_latency_p50_ms),
        suites=lines,
    )


def migration_subject(migration: Migration) -> str:
    """ "retiring openai:gpt-4o on 2027-01-14: try openai:gpt-5" (or "no replacement compared")."""
    model = clean_text(migration.retiring, 100)
    when = f" on {migration.date.isoformat()}" if migration.date else ""
    choice = "no replacement compared"
    if migration.recommended:
        choice = f"try {clean_text(migration.recommended, 100)}"
    return f"retiring {model}{when}: {choice}"


def build_migration_email(config: Config, migration: Migration, *, report_path: Path | None) -> EmailMessage:
    """multipart/alternative: the plain-text migration summary, then the same as e-mail-safe HTML."""
    if config.email is None:
        raise ConfigError("[email] is not configured in the config file")
    message = new_message(config.email, migration_subject(migration))
    context = {
        "subject": str(message["Subject"]),
        "headline": clean_text(migration.headline, 500),
        "retiring": clean_text(migration.retiring, MODEL_MAX),
        "recommended": clean_text(migration.recommended, MODEL_MAX) if migration.recommended else None,
        "rule": migration.rule,
        "alpha": migration.alpha,
        "candidates": [_candidate_view(c, migration.recommended) for c in migration.candidates],
        "notes": [clean_text(n, 500) for n in migration.notes],
        "report_path": str(report_path) if report_path is not None else None,
    }
    env = mail_templates()
    message.set_content(env.get_template("email_migration.txt.j2").render(context))
    message.add_alternative(env.get_template("email_migration.html.j2").render(context), subtype="html")
    return message
