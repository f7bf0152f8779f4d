"""Render the report view models to HTML with the Jinja environment and its filters."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.pipeline.compare.wording import VERDICT_CLASS, points, points_interval, verdict_lines
from monitor.pipeline.report.formats import (
    fmt_int,
    fmt_interval,
    fmt_ms,
    fmt_p,
    fmt_pct,
    fmt_score,
    fmt_time,
    fmt_usd,
)
from monitor.pipeline.report.text import FLIP_TEXT_LIMIT, RUN_TEXT_LIMIT, clip
from monitor.providers.pricing import estimate_prefix

if TYPE_CHECKING:
    import jinja2

    from monitor.pipeline.report.views import EventReport, IndexReport, RunReport

TEMPLATES_DIR = Path(__file__).parent / "templates"
FLIPS_SHOWN = 25


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
        estimate_prefix=estimate_prefix,
    )
    env.globals.update(
        FLIPS_SHOWN=FLIPS_SHOWN,
        FLIP_TEXT_LIMIT=FLIP_TEXT_LIMIT,
        RUN_TEXT_LIMIT=RUN_TEXT_LIMIT,
    )
    return env


def render_event_report(report: EventReport) -> str:
    """The event page's HTML (it lives one folder below the reports directory)."""
    return environment().get_template("event.html.j2").render(report=report, root="../")


def render_run_report(report: RunReport) -> str:
    """The run page's HTML (it lives one folder below the reports directory)."""
    return environment().get_template("run.html.j2").render(report=report, root="../")


def render_index(report: IndexReport) -> str:
    """The index page's HTML (it lives at the top of the reports directory)."""
    return environment().get_template("index.html.j2").render(report=report, root="")
