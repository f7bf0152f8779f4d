"""Build the e-mail for an event: a plain-text part and an e-mail-safe HTML part with score bars."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from monitor.core.errors import ConfigError
from monitor.pipeline.compare.wording import VERDICT_CLASS, verdict_lines
from monitor.pipeline.deliver.chart_html import (
    BASELINE_COLOR,
    CANDIDATE_COLOR,
    TRACK_COLOR,
    WHISKER_COLOR,
    ScoreBar,
    ScoreGroup,
    score_bar,
)
from monitor.pipeline.report.render import TEMPLATES_DIR
from monitor.pipeline.report.variants import variant_tables
from monitor.providers.pricing import estimate_prefix

if TYPE_CHECKING:
    from jinja2 import Environment

    from monitor.core.config import Config, EmailConfig
    from monitor.pipeline.compare.pairing import SuiteComparison
    from monitor.pipeline.compare.runs import RunStats
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.stats.estimate import ScoreEstimate

MODEL_IN_SUBJECT_MAX = 100
SUBJECT_MAX = 250
FLIPPED_SHOWN = 5
FLIPPED_TEXT_MAX = 400
VERDICT_COLORS = {"better": "#1e7a3c", "worse": "#b3261e", "errors": "#8a5a00"}
VERDICT_BACKGROUNDS = {"better": "#e3f1e7", "worse": "#fbe6e4", "errors": "#fdf1dc", "small": "#fdf1dc"}
# Where an id may wrap; markupsafe's entities (&lt; &#34; ...) contain none of these characters.
_BREAK_AFTER = re.compile(r"([-:/.])")
KIND_TITLES = {
    "new_model": "New model",
    "returned_model": "Model returned",
    "removed_model": "Model removed",
    "drift": "Drift check",
}


def clean_text(value: str, limit: int, *, keep_newlines: bool = False) -> str:
    """Drop control, format (bidi override, zero-width) and unassigned characters; bound the length.

    Without `keep_newlines` the result is one line with single spaces, safe inside a header.
    """
    kept = []
    for char in value[: limit * 4]:
        if keep_newlines and char in "\n\t":
            kept.append(char)
        elif unicodedata.category(char)[0] == "C":
            kept.append(" " if char in "\r\n\t\v\f" else "")
        else:
            kept.append(char)
    text = "".join(kept)
    if not keep_newlines:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def breakable(value: object) -> Markup:
    """`value` HTML-escaped, with <wbr> after each '-', ':', '/' and '.': a long id wraps only there.

    Narrow screens then wrap `anthropic:claude-sonnet-4-5` between its parts instead of scrolling
    sideways or breaking a word mid-way (`word-break: break-all`).
    """
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(value))))


def parse_address(value: str, *, key: str) -> Address:
    """One address from the config as an Address; ConfigError for anything else (lists, CR/LF, junk)."""
    problem = None
    if any(unicodedata.category(char) == "Cc" for char in value):
        problem = "contains control characters (such as a line break)"
    else:
        found = getaddresses([value])
        if len(found) != 1 or not found[0][1]:
            problem = "is not exactly one e-mail address"
        else:
            name, addr = found[0]
            local, _, domain = addr.rpartition("@")
            if not local or not domain or not addr.isascii() or " " in addr:
                problem = "is not a valid e-mail address (expected name@example.com)"
            else:
                try:
                    return Address(display_name=name, addr_spec=addr)
                except (ValueError, IndexError) as exc:
                    problem = f"is not a valid e-mail address ({exc})"
    raise ConfigError(f"[email] {key} = {value!r} {problem}")


def message_addresses(config: EmailConfig) -> tuple[Address, list[Address]]:
    """The validated sender and recipients; ConfigError when [email] cannot send anything."""
    sender = parse_address(config.from_, key="from")
    if not config.to:
        raise ConfigError("[email] to is empty: list at least one recipient")
    recipients = [parse_address(addr, key="to") for addr in config.to]
    if config.username and not config.password_env:
        raise ConfigError("[email] username is set but password_env is not: name the variable holding it")
    if config.username and config.security == "none" and not _is_loopback(config.smtp_host):
        raise ConfigError(
            "[email] security = 'none' would send the SMTP password unencrypted; use 'starttls' or 'tls'"
        )
    return sender, recipients


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_message(config: EmailConfig, subject: str) -> EmailMessage:
    """An empty message with clean headers: Subject (sanitised), From, To, Date, Message-ID."""
    sender, recipients = message_addresses(config)
    prefix = clean_text(config.subject_prefix, 60)
    message = EmailMessage()
    message["Subject"] = clean_text(f"{prefix} {subject}".strip(), SUBJECT_MAX)
    message["From"] = sender
    message["To"] = recipients
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Auto-Submitted"] = "auto-generated"
    return message


def subject_summary(comparison: EventComparison, event_kind: str) -> str:
    """ "better on 2 of 3 suites", "worse on 1 of 2 suites", "no measurable difference on 3 suites"..."""
    if event_kind == "removed_model":
        return "removed by the provider"
    compared = comparison.better + comparison.worse + comparison.same + comparison.undecided
    suites = "suite" if compared == 1 else "suites"
    if compared == 0:
        return "nothing to compare against" if comparison.suites else "no suites evaluated"
    if comparison.better and comparison.worse:
        return f"better on {comparison.better}, worse on {comparison.worse} of {compared} {suites}"
    if comparison.better:
        return f"better on {comparison.better} of {compared} {suites}"
    if comparison.worse:
        return f"worse on {comparison.worse} of {compared} {suites}"
    if comparison.same:
        return f"no measurable difference on {comparison.same} of {compared} {suites}"
    return f"no verdict on {compared} {suites}"


def _verdicts(comparison: EventComparison) -> list[str]:
    return [s.paired.verdict for s in comparison.suites if s.paired is not None]


def verdict_counts(comparison: EventComparison) -> str:
    """ "2 better, 1 too small to tell": each verdict word that occurs, with its count."""
    verdicts = _verdicts(comparison)
    return ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts)) or "none"


def verdict_pills(comparison: EventComparison) -> list[dict[str, object]]:
    """One coloured count per verdict that occurs, for the top of the HTML part."""
    verdicts = _verdicts(comparison)
    pills = []
    for verdict in dict.fromkeys(verdicts):
        kind = VERDICT_CLASS.get(verdict, "")
        pills.append(
            {
                "count": verdicts.count(verdict),
                "verdict": verdict,
                "color": VERDICT_COLORS.get(kind, "#52606d"),
                "background": VERDICT_BACKGROUNDS.get(kind, "#eceff2"),
            }
        )
    return pills


def event_subject(comparison: EventComparison, event_kind: str) -> str:
    model = clean_text(comparison.candidate, MODEL_IN_SUBJECT_MAX)
    lead = "drift: " if event_kind == "drift" else ""
    return f"{lead}{model}: {subject_summary(comparison, event_kind)}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def _money(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:.4f}" if abs(value) < 1 else f"${value:,.2f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


@dataclass
class ModelRow:
    """One model's line in a suite table, already formatted."""

    role: str
    model: str
    pass_rate: str
    pass_interval: str
    score: str
    interval: str
    outcomes: str
    cost: str
    cost_per_1k: str
    latency: str
    price_source: str


@dataclass
class FlipView:
    direction: str
    key: str
    prompt: str
    target: str
    candidate_output: str
    baseline_output: str


@dataclass
class SuiteView:
    """A suite's comparison as display strings for both templates."""

    name: str
    version: str
    rows: list[ModelRow]
    verdict: str | None
    verdict_color: str
    delta: str | None
    detail: list[str]
    note: str | None
    fail_to_pass: int
    pass_to_fail: int
    flips: list[FlipView] = field(default_factory=list)
    flips_hidden: int = 0


def _interval(estimate: ScoreEstimate) -> str:
    return f"{_pct(estimate.ci.low)} – {_pct(estimate.ci.high)}" if estimate.ci else "n/a"


def _row(role: str, stats: RunStats) -> ModelRow:
    return ModelRow(
        role=role,
        model=clean_text(stats.model_key, 200),
        pass_rate=_pct(stats.pass_rate.mean),
        pass_interval=_interval(stats.pass_rate),
        score=_pct(stats.score.mean),
        interval=_interval(stats.score),
        outcomes=f"{stats.passed} passed, {stats.failed} failed, {stats.errored} errored",
        cost=_bound(stats) + _money(stats.cost_usd),
        cost_per_1k=_bound(stats) + _money(stats.cost_per_1k),
        latency=f"{_ms(stats.latency_p50_ms)} / {_ms(stats.latency_p95_ms)}",
        price_source=clean_text(stats.cost_source or "no cost recorded", 300),
    )


def _bound(stats: RunStats) -> str:
    """'at most ' / 'about ' before a cost at an estimated price (docs/pricing.md)."""
    return estimate_prefix(stats.cost_source) if stats.cost_usd is not None else ""


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return clean_text(value if isinstance(value, str) else repr(value), FLIPPED_TEXT_MAX, keep_newlines=True)


def _suite_view(suite: SuiteComparison) -> SuiteView:
    rows = [_row("candidate", suite.candidate)]
    if suite.baseline is not None:
        rows.append(_row("baseline", suite.baseline))
    paired = suite.paired
    verdict = delta = None
    detail: list[str] = []
    if paired is not None:
        verdict = paired.verdict
        delta, *detail = verdict_lines(paired)
    note = clean_text(suite.note, 500) if suite.note else None
    flips = [
        FlipView(
            direction="fail → pass" if flip.direction == "fail_to_pass" else "pass → fail",
            key=clean_text(flip.key, 200),
            prompt=_shown(flip.prompt),
            target=_shown(flip.target),
            candidate_output=_shown(flip.candidate_output),
            baseline_output=_shown(flip.baseline_output),
        )
        for flip in suite.flipped[:FLIPPED_SHOWN]
    ]
    return SuiteView(
        name=clean_text(suite.suite, 200),
        version=clean_text(suite.suite_version, 64),
        rows=rows,
        verdict=verdict,
        verdict_color=VERDICT_COLORS.get(VERDICT_CLASS.get(verdict or "", ""), "#52606d"),
        delta=delta,
        detail=detail,
        note=note,
        fail_to_pass=sum(1 for f in suite.flipped if f.direction == "fail_to_pass"),
        pass_to_fail=sum(1 for f in suite.flipped if f.direction == "pass_to_fail"),
        flips=flips,
        flips_hidden=max(0, len(suite.flipped) - FLIPPED_SHOWN),
    )


def event_score_groups(comparison: EventComparison) -> list[ScoreGroup]:
    """Candidate and baseline score per suite as labelled bars with 95% intervals (for the HTML part)."""

    def bar(role: str, stats: RunStats, color: str) -> ScoreBar:
        ci = stats.score.ci
        return score_bar(
            role,
            clean_text(stats.model_key, 200),
            stats.score.mean,
            ci.low if ci else None,
            ci.high if ci else None,
            color=color,
        )

    groups = []
    for suite in comparison.suites:
        bars = [bar("candidate", suite.candidate, CANDIDATE_COLOR)]
        if suite.baseline is not None:
            bars.append(bar("baseline", suite.baseline, BASELINE_COLOR))
        groups.append(ScoreGroup(clean_text(suite.suite, 200), bars))
    return groups


@lru_cache(maxsize=1)
def mail_templates() -> Environment:
    """The e-mails' Jinja environment (HTML autoescaped, text not; the `breakable` filter), made once."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["breakable"] = breakable
    return env


def build_event_email(
    config: Config,
    comparison: EventComparison,
    *,
    report_path: Path | None,
    event_kind: str = "new_model",
) -> EmailMessage:
    """multipart/alternative: text/plain, then text/html (tables, inline styles, bars as cell widths)."""
    if config.email is None:
        raise ConfigError("[email] is not configured in the config file")
    message = new_message(config.email, event_subject(comparison, event_kind))
    context = {
        "title": KIND_TITLES.get(event_kind, "Event"),
        "subject": str(message["Subject"]),
        "headline": clean_text(comparison.headline, 500),
        "candidate": clean_text(comparison.candidate, 200),
        "baselines": [clean_text(b, 200) for b in comparison.baselines],
        "better": comparison.better,
        "worse": comparison.worse,
        "same": comparison.same,
        "verdict_counts": verdict_counts(comparison),
        "verdict_pills": verdict_pills(comparison),
        "alpha": comparison.alpha,
        "suites": [_suite_view(s) for s in comparison.suites],
        "variants": variant_tables(comparison),
        "report_path": str(report_path) if report_path is not None else None,
        "score_groups": event_score_groups(comparison),
        "colors": {"track": TRACK_COLOR, "whisker": WHISKER_COLOR},
    }
    env = mail_templates()
    message.set_content(env.get_template("email_event.txt.j2").render(context))
    message.add_alternative(env.get_template("email_event.html.j2").render(context), subtype="html")
    return message
