"""The index's score history per suite: dated axis, score labels, a legend and a table, all escaped."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core.config import Config
from monitor.pipeline.report.charts import TICK_GAP, ChartPoint, ChartSeries, line_chart
from monitor.pipeline.report.write import write_index
from monitor.store.db import Database
from tests.factories import T0, add_run, add_suite, make_config

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'sim:<script>alert("x")</script>'


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(found) for found in re.findall(r"<svg.*?</svg>", html, re.S)]


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def section(html: str, suite: str) -> str:
    start = html.index(f"<h3>{suite} ")
    end = html.find('<section class="card"', start)
    return html[start : end if end != -1 else len(html)]


def test_each_suite_has_a_dated_labelled_history_with_a_legend_and_a_table(
    db: Database, config: Config
) -> None:
    with db.session() as s:
        qa = add_suite(s, "qa", "v1", 10)
        for day, passes in enumerate((5, 6, 7)):
            add_run(
                s,
                qa,
                "sim:base",
                [True] * passes + [False] * (10 - passes),
                finished_at=T0 + timedelta(days=day),
            )
        add_run(s, qa, "sim:strong", [True] * 9 + [False], finished_at=T0 + timedelta(days=3))
        math = add_suite(s, "math", "v1", 4)
        add_run(s, math, "sim:base", [True, True, False, False], finished_at=T0)
    html = write_index(db, config).read_text("utf-8")

    qa_section = section(html, "qa")
    (qa_svg,) = svgs(qa_section)
    labels = texts(qa_svg)
    assert "2026-01-05" in labels and "2026-01-08" in labels  # first and last run, on the time axis
    assert "run finished (UTC)" in labels
    for score in ("50.0%", "60.0%", "70.0%", "90.0%"):
        assert score in labels  # every run labelled with its score
    legend = qa_section[qa_section.index('class="legend"') :]
    assert legend.index("sim:base") < legend.index("sim:strong")
    rows = re.findall(
        r"<tr>\s*<td>(.*?)</td>.*?</span>(.*?)</td>\s*<td class=\"num\">(.*?)</td>", qa_section, re.S
    )
    history = [r for r in rows if r[0].endswith("UTC")][-4:]
    assert [(when[:10], model, score) for when, model, score in history] == [
        ("2026-01-08", "sim:strong", "90.0%"),
        ("2026-01-07", "sim:base", "70.0%"),
        ("2026-01-06", "sim:base", "60.0%"),
        ("2026-01-05", "sim:base", "50.0%"),
    ]

    (math_svg,) = svgs(section(html, "math"))
    assert "01-05 09:00" in texts(math_svg)  # a single run still has its time on the axis
    assert "50.0%" in texts(math_svg)


def test_model_ids_are_escaped_in_the_chart_legend_and_table(db: Database, config: Config) -> None:
    with db.session() as s:
        qa = add_suite(s, "qa", "v1", 2)
        add_run(s, qa, HOSTILE, [True, False], finished_at=T0)
    html = write_index(db, config).read_text("utf-8")

    assert "<script>" not in html
    assert (
        html.count("sim:&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 4
    )  # board, tooltip, legend, table
    (svg,) = svgs(html)
    assert [t.text for t in svg.iter(f"{SVG}title")][1].startswith(HOSTILE)


def chart(series: list[ChartSeries]) -> ET.Element:
    return ET.fromstring(str(line_chart(series, "history")))


def test_score_labels_never_overlap_and_the_latest_points_are_labelled_first() -> None:
    same = [ChartPoint(T0 + timedelta(days=d), 0.5, f"{50 + d}.0%", "tip") for d in range(3)]
    twins = [
        ChartSeries("sim:a", "#000", [ChartPoint(p.when, p.score, p.value, p.label) for p in same]),
        ChartSeries("sim:b", "#111", [ChartPoint(p.when, p.score, p.value, p.label) for p in same]),
        ChartSeries("sim:c", "#222", [ChartPoint(p.when, p.score, p.value, p.label) for p in same]),
    ]
    svg = chart(twins)

    placed = [
        (float(t.get("x", 0)), float(t.get("y", 0)))
        for t in svg.iter(f"{SVG}text")
        if (t.text or "").endswith(".0%") and t.get("text-anchor") == "middle"
    ]
    assert len(placed) == 6  # above and below each of the three times; the third model's are left out
    for i, (x1, y1) in enumerate(placed):
        for x2, y2 in placed[i + 1 :]:
            assert abs(x1 - x2) >= 34 or abs(y1 - y2) >= 11
    assert len(list(svg.iter(f"{SVG}circle"))) == 9  # every run still has its point and tooltip


def test_the_time_axis_labels_first_and_last_and_keeps_labels_apart() -> None:
    points = [ChartPoint(T0 + timedelta(days=d), 0.5 + d / 100, "x", "tip") for d in range(60)]
    svg = chart([ChartSeries("sim:a", "#000", points)])

    ticks = [t for t in svg.iter(f"{SVG}text") if re.fullmatch(r"\d{4}-\d\d-\d\d", t.text or "")]
    xs = [float(t.get("x", 0)) for t in ticks]
    assert ticks[0].text == "2026-01-05" and ticks[-1].text == "2026-03-05"
    assert 4 <= len(ticks) <= 8
    assert all(b - a >= TICK_GAP for a, b in itertools.pairwise(xs))
