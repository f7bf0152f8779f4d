"""The event e-mail on a 420 px phone: no sideways scrolling, no word split, bars labelled, no image."""

from __future__ import annotations

import json
import os
import re
import subprocess
from email.message import EmailMessage
from html import escape, unescape
from pathlib import Path
from typing import cast

import pytest

from monitor.pipeline.compare.variants import VariantGroup, VariantScore
from monitor.pipeline.deliver.chart_html import score_bar
from monitor.pipeline.deliver.message import breakable, build_event_email
from tests.fixtures.comparisons import event_comparison, flip, run_stats
from tests.test_mail_render import config_with_email, html_of, reparsed, text_of

CHROMIUM = Path("/usr/bin/chromium")
PHONE_WIDTH = 420
CANDIDATE = "anthropic:claude-sim-sonnet-4-5-20250929"
BASELINE = "anthropic:claude-sim-sonnet-4-20250514"
REPORT = Path("/var/lib/model-monitor/reports/events/event-7-anthropic-claude-sim-sonnet-4-5-20250929.html")

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("MODEL_MONITOR_REQUIRE_BROWSER"),
    reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it and never skips)",
)

# The host page: the e-mail in a 420 px wide iframe (headless Chromium's window is at least
# 500 px wide), measured once loaded: its width, and every alphanumeric run in the headline
# and in bold or code text (the ids and the report path) that spans more than one line box.
HOST = """<!DOCTYPE html>
<html><body style="margin:0">
<iframe id="mail" style="border:0;width:WIDTHpx;height:900px" srcdoc="SRCDOC"></iframe>
<script>
window.addEventListener("load", () => {
  const frame = document.getElementById("mail");
  const doc = frame.contentDocument;
  const split = [];
  for (const el of doc.querySelectorAll("h1, b, code")) {
    const walker = doc.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[A-Za-z0-9]+/g)) {
        const range = doc.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) split.push(m[0]);
      }
    }
  }
  const out = document.createElement("pre");
  out.id = "measure";
  out.textContent = JSON.stringify({
    viewport: frame.contentWindow.innerWidth,
    client: doc.documentElement.clientWidth,
    scroll: Math.max(doc.documentElement.scrollWidth, doc.body.scrollWidth),
    headline: doc.querySelector("h1").textContent,
    split: split,
  });
  document.body.appendChild(out);
});
</script>
</body></html>
"""


def variant_group() -> VariantGroup:
    """Three prompt variants with long names for both models: the widest "Prompt variants" table."""
    names = ["default", "chain-of-thought-with-examples", "terse.system/v2"]
    scores = [
        VariantScore(role, model, name, f"qa[{name}]", 1, run_stats(model, 0.6 + i / 10).score)
        for role, model in (("candidate", CANDIDATE), ("baseline", BASELINE))
        for i, name in enumerate(names)
    ]
    return VariantGroup(
        suite="qa",
        variants=names,
        scores=scores,
        best=scores[2],
        candidate_best=names[2],
        production_best=names[2],
        test=None,
        significant=False,
        sentence=f"Best observed: {CANDIDATE} and production ({BASELINE}) both do best with `{names[2]}`",
        detail=None,
    )


def phone_email_html() -> str:
    """The HTML part for long, realistic model ids, a long report path and a long flipped answer."""
    comparison = event_comparison(
        candidate=CANDIDATE, baseline=BASELINE, flipped=[flip("s001", "4 " * 80 + "x" * 30)]
    )
    comparison.headline = f"{CANDIDATE} is better than the baseline on 2 of 3 suites, 40% cheaper"
    comparison.variants = [variant_group()]
    message = build_event_email(config_with_email(), comparison, report_path=REPORT)
    return html_of(reparsed(message))


def measure(html: str, tmp_path: Path, name: str) -> dict[str, object]:
    """Open `html` in headless Chromium in a 420 px wide frame and read back HOST's figures."""
    page = tmp_path / f"{name}.html"
    page.write_text(
        HOST.replace("WIDTH", str(PHONE_WIDTH)).replace("SRCDOC", escape(html, quote=True)), encoding="utf-8"
    )
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / f'profile-{name}'}",
            "--window-size=800,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="measure">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"no measurement (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return cast(dict[str, object], json.loads(unescape(found.group(1))))


@pytest.mark.parametrize("media_queries", [True, False], ids=["with-media-queries", "without-media-queries"])
@pytest.mark.slow
@needs_chromium
def test_email_fits_a_420px_phone_without_scrolling_or_splitting_words(
    tmp_path: Path, media_queries: bool
) -> None:
    html = phone_email_html()
    if not media_queries:
        html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    got = measure(html, tmp_path, "phone" if media_queries else "plain")

    assert got["viewport"] == PHONE_WIDTH
    assert cast(int, got["scroll"]) <= cast(int, got["client"]) <= PHONE_WIDTH, got
    assert CANDIDATE in cast(str, got["headline"])
    assert got["split"] == [], got


def test_ids_may_wrap_only_after_dash_colon_slash_and_dot_and_stay_escaped() -> None:
    assert breakable("anthropic:claude-3.5/x") == "anthropic:<wbr>claude-<wbr>3.<wbr>5/<wbr>x"
    assert breakable('<b>&"') == "&lt;b&gt;&amp;&#34;"


def test_html_part_shows_ids_whole_with_break_points_and_never_break_all() -> None:
    html = phone_email_html()

    assert "break-all" not in html
    assert "<b>anthropic:<wbr>claude-<wbr>sim-<wbr>sonnet-<wbr>4-<wbr>5-<wbr>20250929</b>" in html
    assert "<style>" in html and "@media only screen and (max-width: 480px)" in html
    assert "Prompt variants: qa" in html and "chain-<wbr>of-<wbr>thought-<wbr>with-<wbr>examples" in html


def test_scores_are_labelled_bars_of_table_cell_widths_and_there_is_no_image() -> None:
    message = reparsed(build_event_email(config_with_email(), event_comparison(), report_path=None))
    html = html_of(message)

    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert "<img" not in html and "cid:" not in html
    # arithmetic: candidate 86% (81–91), baseline 78% (73–83); one bar and one interval line each.
    assert 'width="86%" style="width:86%;height:14px;background-color:#3b6ea5;' in html
    assert 'width="78%" style="width:78%;height:14px;background-color:#9aa5b1;' in html
    assert 'width="81%" style="width:81%;height:3px;' in html
    assert '<b style="color:#1f2933;">86.0%</b> &middot; <span style="white-space:nowrap;">' in html
    assert "95% CI 81.0% – 91.0%" in html
    assert "Mean grade per suite" in html
    assert "mean grade 86.0% (95% CI 81.0% – 91.0%)" in text_of(message)


@pytest.mark.parametrize(
    ("mean", "low", "high", "cells"),
    [
        (0.86, 0.81, 0.91, (86, 14, 81, 10, 9)),
        (0.0, 0.0, 0.02, (0, 100, 0, 2, 98)),
        (1.0, 0.97, 1.0, (100, 0, 97, 3, 0)),
        (0.5, 0.5, 0.5, (50, 50, 50, 1, 49)),
        (1.0, 1.0, 1.0, (100, 0, 99, 1, 0)),
        (None, None, None, (0, 100, 0, 0, 0)),
    ],
)
def test_bar_cells_always_add_up_to_the_whole_track(
    mean: float | None, low: float | None, high: float | None, cells: tuple[int, ...]
) -> None:
    bar = score_bar("candidate", "sim:x", mean, low, high, color="#000")

    assert (bar.filled, bar.empty, bar.before, bar.span, bar.after) == cells
    assert bar.filled + bar.empty == 100
    assert bar.span == 0 or bar.before + bar.span + bar.after == 100
    assert bar.value == ("no score" if mean is None else f"{mean * 100:.1f}%")


def test_hostile_model_id_in_the_bars_is_escaped() -> None:
    comparison = event_comparison(candidate='sim:<script>alert("x")</script>')
    message = build_event_email(config_with_email(), comparison, report_path=None)
    html = cast(EmailMessage, message.get_body(preferencelist=("html",))).get_content()

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/<wbr>script&gt;" in html
