"""One verdict, in the same words, in the HTML report, the e-mail and `compare --json`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import Config, EmailConfig
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.compare.jsonable import to_jsonable
from monitor.pipeline.compare.wording import p_text
from monitor.pipeline.deliver.message import build_event_email
from monitor.pipeline.report.write import write_event_report
from monitor.store.db import Database
from tests.factories import T0, add_event, add_run, add_suite, make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def small_event(db: Database) -> int:
    """A 20-sample suite on which the candidate gains one sample: far too small to tell."""
    with db.session() as s:
        suite = add_suite(s, "tiny", "v1", 20)
        add_run(s, suite, "sim:base", [True] * 14 + [False] * 6, finished_at=T0)
        event = add_event(s, "new_model", "sim:cand", created_at=T0 + timedelta(days=1))
        add_run(
            s, suite, "sim:cand", [True] * 15 + [False] * 5, event=event, finished_at=T0 + timedelta(days=1)
        )
        return event.id


def _comparison_json(db: Database, config: Config, event_id: int) -> dict[str, object]:
    with db.session() as s:
        return to_jsonable(compare_event(s, config, event_id))  # type: ignore[no-any-return]


def test_the_report_the_email_and_the_json_say_too_small_to_tell(
    db: Database, config: Config, small_event: int
) -> None:
    data = _comparison_json(db, config, small_event)
    suites = data["suites"]
    assert isinstance(suites, list)
    assert suites[0]["paired"]["verdict"] == "too small to tell"
    html = write_event_report(db, config, small_event).read_text("utf-8")
    with db.session() as s:
        comparison = compare_event(s, config, small_event)
    mail_config = config.model_copy(update={"email": EmailConfig(to=["a@example.com"])})
    message = build_event_email(mail_config, comparison, report_path=None)
    text = message.get_body(preferencelist=("plain",))
    html_mail = message.get_body(preferencelist=("html",))
    assert text is not None and html_mail is not None
    for rendered in (html, text.get_content(), html_mail.get_content()):
        assert "too small to tell" in rendered
        assert (
            "no measurable difference" not in rendered.split("Sent by model-monitor")[0].split("<footer")[0]
        )


def test_compare_json_carries_the_verdict_power_and_minimum_detectable_effect(
    db: Database, config: Config, small_event: int, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "monitor.toml"), "compare", "sim:cand", "sim:base", "--json"]
    )
    assert result.exit_code == 0, result.output
    paired = json.loads(result.output)["suites"][0]["paired"]
    assert paired["verdict"] == "too small to tell"
    assert {"power", "mde", "min_effect", "ci_level", "candidate_mean", "baseline_mean"} <= set(paired)
    assert "data" not in paired


@pytest.mark.parametrize(("p", "text"), [(0.0004, "p < 0.001"), (0.0123, "p = 0.012"), (0.5, "p = 0.500")])
def test_a_p_value_is_written_with_one_sign(p: float, text: str) -> None:
    assert p_text(p) == text
