"""HTML reports: content from real rows, hostile model output escaped and bounded, idempotent writes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from monitor.core.config import Config
from monitor.core.errors import InputError
from monitor.pipeline.report.queries import build_event_report
from monitor.pipeline.report.text import RUN_TEXT_LIMIT
from monitor.pipeline.report.write import write_all, write_event_report, write_index, write_run_report
from monitor.pipeline.run.persist import insert_results
from monitor.store.db import Database
from monitor.store.tables import Report, Result
from tests.factories import T0, add_event, add_run, add_suite, make_config

MEGABYTE_ANSWER = "A" * 1_000_000
HOSTILE = [
    "<script>alert(1)</script>",
    "</textarea><img src=x onerror=alert(2)>",
    "{{ 7*7 }}",
    MEGABYTE_ANSWER,
    "bell\x07 nul\x00 escape\x1b[31m",
    "abc\u202edcba\u2066isolated",
]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every report test, the hostile-output ones above all, on SQLite and on PostgreSQL."""
    return any_db


def store_as_the_runner_does(db: Database, run_id: int, outputs: list[str]) -> None:
    """Rewrite a run's results with these outputs through the runner's own insert (`insert_results`)."""
    with db.session() as s:
        rows = [
            {c.key: getattr(r, c.key) for c in Result.__table__.columns if c.key != "id"}
            for r in s.scalars(select(Result).where(Result.run_id == run_id).order_by(Result.sample_key))
        ]
        s.execute(delete(Result).where(Result.run_id == run_id))
    for row, output in zip(rows, outputs, strict=True):
        row["output"] = None if row["output"] is None else output
    insert_results(db, rows)


@pytest.fixture
def hostile(db: Database) -> dict[str, int]:
    """A baseline that passes everything and a candidate whose hostile answers all fail (so they flip)."""
    with db.session() as s:
        suite = add_suite(s, "qa", "v1", 12, prompts=[f"<b>prompt {i}</b>" for i in range(12)])
        base = add_run(s, suite, "sim:base", [True] * 12, finished_at=T0)
        event = add_event(s, "new_model", "sim:cand", created_at=T0 + timedelta(days=1))
        outcomes = [False] * len(HOSTILE) + [True] * (12 - len(HOSTILE) - 1) + [None]
        cand = add_run(s, suite, "sim:cand", outcomes, event=event, finished_at=T0 + timedelta(days=1))
        ids = {"base": base.id, "cand": cand.id, "event": event.id}
    store_as_the_runner_does(db, ids["cand"], HOSTILE + ["fine"] * (12 - len(HOSTILE)))
    return ids


def test_unstorable_characters_in_output_errors_and_tool_calls_are_stored_as_escapes(db: Database) -> None:
    with db.session() as s:
        run_id = add_run(s, add_suite(s, "qa", "v1", 2), "sim:cand", [True, None]).id
        rows = [
            {c.key: getattr(r, c.key) for c in Result.__table__.columns if c.key != "id"}
            for r in s.scalars(select(Result).where(Result.run_id == run_id).order_by(Result.sample_key))
        ]
        s.execute(delete(Result).where(Result.run_id == run_id))
    rows[0].update(
        output="nul\x00 half\ud83d pair",
        tool_calls=[{"name": "look\x00up", "arguments": {"q\x00": "a\x00b"}}],
    )
    rows[1].update(error_message="provider said \x00")

    insert_results(db, rows)

    with db.session() as s:
        stored = list(s.scalars(select(Result).where(Result.run_id == run_id).order_by(Result.sample_key)))
    assert stored[0].output == r"nul\x00 half\ud83d pair"
    assert stored[0].tool_calls == [{"name": r"look\x00up", "arguments": {r"q\x00": r"a\x00b"}}]
    assert stored[1].error_message == r"provider said \x00"


@pytest.fixture
def run_html(db: Database, config: Config, hostile: dict[str, int]) -> str:
    return write_run_report(db, config, hostile["cand"]).read_text("utf-8")


@pytest.fixture
def event_html(db: Database, config: Config, hostile: dict[str, int]) -> str:
    return write_event_report(db, config, hostile["event"]).read_text("utf-8")


def test_script_in_model_output_is_escaped_in_the_run_report(run_html: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in run_html
    assert "<script" not in run_html.lower()


def test_script_in_model_output_is_escaped_in_the_event_report(event_html: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in event_html
    assert "<script" not in event_html.lower()


def test_closing_textarea_and_img_tags_in_output_stay_text(run_html: str) -> None:
    assert "</textarea>" not in run_html
    assert "<img" not in run_html
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(2)&gt;" in run_html


def test_template_syntax_in_output_appears_literally_and_is_never_evaluated(
    run_html: str, event_html: str
) -> None:
    for html in (run_html, event_html):
        assert "{{ 7*7 }}" in html
        assert not re.search(r"<pre>49</pre>", html)


def test_megabyte_answer_is_truncated_and_says_so(
    db: Database, config: Config, hostile: dict[str, int]
) -> None:
    path = write_run_report(db, config, hostile["cand"])
    html = path.read_text("utf-8")
    assert path.stat().st_size < 100_000
    assert "A" * RUN_TEXT_LIMIT in html
    assert "A" * (RUN_TEXT_LIMIT + 1) not in html
    assert f"first {RUN_TEXT_LIMIT:,} of 1,000,000 characters shown" in html


def test_megabyte_answer_is_bounded_in_the_event_report(
    db: Database, config: Config, hostile: dict[str, int]
) -> None:
    path = write_event_report(db, config, hostile["event"])
    assert path.stat().st_size < 100_000
    assert "of 1,000,000 characters shown" in path.read_text("utf-8")


def test_control_characters_are_shown_as_visible_escapes(run_html: str) -> None:
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", run_html)
    assert r"bell\x07 nul\x00 escape\x1b[31m" in run_html


def test_right_to_left_override_cannot_reorder_the_shown_text(run_html: str, event_html: str) -> None:
    for html in (run_html, event_html):
        assert "\u202e" not in html and "\u2066" not in html
        assert "abc[U+202E]dcba[U+2066]isolated" in html


def test_prompts_are_escaped_too(run_html: str) -> None:
    assert "&lt;b&gt;prompt 3&lt;/b&gt;" in run_html
    assert "<b>prompt" not in run_html


def test_reports_forbid_scripts_and_external_assets(run_html: str, event_html: str) -> None:
    for html in (run_html, event_html):
        assert "default-src 'none'" in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_run_report_filters_failed_and_errored_samples_without_javascript(run_html: str) -> None:
    assert 'href="#failed">Failed (6)' in run_html
    assert 'href="#errored">Errored (1)' in run_html
    assert "#failed:target ~ .samples .sample:not(.failed)" in run_html
    assert run_html.count('class="sample failed"') == 6
    assert run_html.count('class="sample errored"') == 1


def test_run_report_shows_latency_tokens_and_grade_per_sample(run_html: str) -> None:
    assert "20 in / 5 out tokens" in run_html
    assert "470 ms" in run_html  # sample 7: 400 + 10 * 7
    assert '<span class="mono">exact</span>' in run_html
    assert "timeout: timeout after 3 attempts" in run_html


def test_event_report_has_headline_verdict_and_flipped_samples(event_html: str) -> None:
    assert "sim:cand is worse than the baseline on 1 of 1 suite" in event_html
    assert '<span class="badge worse">worse</span>' in event_html
    assert "Baseline passed, candidate failed" in event_html
    assert "&lt;b&gt;prompt 0&lt;/b&gt;" in event_html


def test_event_report_summarises_errors_by_kind(event_html: str) -> None:
    assert re.search(r'<td class="mono">timeout</td><td class="num">1</td>', event_html)


def test_event_report_names_models_that_appeared_in_the_same_poll(
    db: Database, config: Config, hostile: dict[str, int]
) -> None:
    with db.session() as s:
        add_event(s, "removed_model", "sim:retired", created_at=T0 + timedelta(days=1, minutes=1))
        add_event(s, "new_model", "sim:much-later", created_at=T0 + timedelta(days=9))
    html = write_event_report(db, config, hostile["event"]).read_text("utf-8")
    assert "sim:retired" in html
    assert "sim:much-later" not in html


def test_event_report_says_cost_unknown_when_a_run_has_no_price(db: Database, config: Config) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", "v1", 6)
        add_run(s, suite, "sim:base", [True, False] * 3)
        event = add_event(s, "new_model", "sim:cand", created_at=T0 + timedelta(hours=1))
        add_run(s, suite, "sim:cand", [True, False] * 3, event=event, cost_per_sample=None)
    html = write_event_report(db, config, event.id).read_text("utf-8")
    assert "cost unknown" in html


def test_removed_model_event_report_has_no_comparison(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, "removed_model", "sim:old")
    with db.session() as s:
        report = build_event_report(s, config, event.id)
    assert report.comparison is None
    assert report.headline == "sim:old is no longer listed by sim"


def test_build_event_report_links_the_run_reports_it_compares(
    db: Database, config: Config, hostile: dict[str, int]
) -> None:
    with db.session() as s:
        report = build_event_report(s, config, hostile["event"])
    assert report.comparison is not None
    assert {line.id for line in report.runs} == {hostile["base"], hostile["cand"]}
    assert [link.path for link in report.links][:2] == [report.path, "index.html"]
    assert all(link.path.startswith(("events/", "runs/", "index")) for link in report.links)


def test_unknown_run_is_bad_input(db: Database, config: Config) -> None:
    with pytest.raises(InputError, match="no run with id 404"):
        write_run_report(db, config, 404)


def test_index_has_a_leaderboard_per_suite_ranked_by_score_and_an_svg_history(
    db: Database, config: Config
) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", "v1", 10)
        for day, passes in enumerate((5, 6, 7)):
            add_run(
                s,
                suite,
                "sim:base",
                [True] * passes + [False] * (10 - passes),
                finished_at=T0 + timedelta(days=day),
            )
        add_run(s, suite, "sim:strong", [True] * 9 + [False], finished_at=T0 + timedelta(days=3))
        add_suite(s, "empty", "v1", 3)
    html = write_index(db, config).read_text("utf-8")
    board = html[html.index("<h3>qa") : html.index("Score history")]
    assert board.index("sim:strong") < board.index("sim:base")
    assert "90.0%" in board and "70.0%" in board  # latest run per model only
    assert "50.0%" not in board
    assert html.count("<svg") == 1  # the suite without finished runs has no board
    assert html.count("<polyline") == 1  # three points for the baseline, one for sim:strong
    assert html.count("<circle") == 4


def test_index_lists_recent_events_and_links_written_reports(
    db: Database, config: Config, hostile: dict[str, int]
) -> None:
    paths = write_all(db, config)
    html = (config.reports_dir / "index.html").read_text("utf-8")
    assert '<span class="badge new_model">new</span>' in html
    for path in paths:
        if path.name != "index.html":
            assert f'href="{path.relative_to(config.reports_dir).as_posix()}"' in html


def test_regenerating_writes_the_same_bytes(db: Database, config: Config, hostile: dict[str, int]) -> None:
    first = {p: p.read_bytes() for p in write_all(db, config)}
    second = {p: p.read_bytes() for p in write_all(db, config)}
    assert first == second
    assert len(first) == 4  # two runs, one event, the index


def test_regenerating_records_each_report_once(db: Database, config: Config, hostile: dict[str, int]) -> None:
    write_all(db, config)
    write_all(db, config)
    with db.session() as s:
        rows = s.scalars(select(Report).order_by(Report.path)).all()
        kinds = sorted(r.kind for r in rows)
        paths = [r.path for r in rows]
    assert kinds == ["event", "index", "run", "run"]
    assert len(set(paths)) == len(paths)
    assert all(not Path(p).is_absolute() for p in paths)


def test_no_temporary_files_are_left_behind(db: Database, config: Config, hostile: dict[str, int]) -> None:
    write_all(db, config)
    assert not [p for p in config.reports_dir.rglob(".*")]


@pytest.mark.parametrize("model_id", ["../x", "../../../../tmp/evil", "a/b:c", "..", "", "ü/ñ\u202e"])
def test_hostile_model_ids_never_escape_the_reports_directory(
    db: Database, config: Config, tmp_path: Path, model_id: str
) -> None:
    before = {p for p in tmp_path.rglob("*")}
    with db.session() as s:
        suite = add_suite(s, "../suite", "v1", 3)
        event = add_event(s, "new_model", f"sim:{model_id}")
        add_run(s, suite, f"sim:{model_id}", [True, False, True], event=event)
    paths = write_all(db, config)
    reports = config.reports_dir.resolve()
    assert all(p.resolve().is_relative_to(reports) for p in paths)
    created = {p for p in tmp_path.rglob("*")} - before
    outside = [p for p in created if not p.resolve().is_relative_to(reports) and "monitor.db" not in p.name]
    assert outside == []
    assert {p.parent.name for p in paths} == {"runs", "events", "reports"}


def test_write_all_works_on_every_supported_database(any_db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with any_db.session() as s:
        suite = add_suite(s, "qa", "v1", 6)
        add_run(s, suite, "sim:base", [True, True, False, True, False, True])
        event = add_event(s, "new_model", "sim:cand", created_at=T0 + timedelta(minutes=1))
        add_run(s, suite, "sim:cand", [True, False, False, None, True, True], event=event)
        add_event(s, "removed_model", "sim:old", created_at=T0 + timedelta(minutes=2))
    first = {p: p.read_bytes() for p in write_all(any_db, config)}
    assert {p: p.read_bytes() for p in write_all(any_db, config)} == first
    assert len(first) == 5


def test_drift_event_report_shows_what_changed(db: Database, config: Config) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", "v1", 6)
        add_run(s, suite, "sim:base", [True] * 6)
        event = add_event(
            s, "drift", "sim:base", detail={"findings": ["resolved model base-0101 -> <b>base-0301</b>"]}
        )
        add_run(s, suite, "sim:base", [True] * 6, event=event, trigger="drift")
    html = write_event_report(db, config, event.id).read_text("utf-8")
    assert "Drift found" in html
    assert "drift: resolved model base-0101 -&gt; &lt;b&gt;base-0301&lt;/b&gt;" in html
