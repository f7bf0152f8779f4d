"""The event e-mail: MIME structure, subject, escaping of untrusted model output, e-mail-safe HTML."""

from __future__ import annotations

import re
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest

from monitor.core.config import BaselineConfig, Config, EmailConfig, ProviderConfig
from monitor.core.errors import ConfigError
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.deliver.message import build_event_email, clean_text, message_addresses
from tests.factories import add_event, add_run, add_suite
from tests.fixtures.comparisons import event_comparison, flip


def email_config(**overrides: object) -> EmailConfig:
    values: dict[str, object] = {"from": "Model Monitor <monitor@example.com>", "to": ["team@example.com"]}
    values.update(overrides)
    return EmailConfig.model_validate(values)


def config_with_email(**overrides: object) -> Config:
    return Config(email=email_config(**overrides))


def reparsed(message: EmailMessage) -> EmailMessage:
    """The message as a receiver sees it: serialised, then parsed again."""
    return cast(EmailMessage, message_from_string(message.as_string(), policy=policy.default))


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return cast(EmailMessage, part).get_content()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return cast(EmailMessage, part).get_content()


def test_event_email_is_text_and_html_alternatives_with_the_scores_drawn_as_html_bars():
    message = reparsed(build_event_email(config_with_email(), event_comparison(), report_path=None))

    assert message.get_content_type() == "multipart/alternative"
    plain, html = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    body = cast(EmailMessage, html).get_content()
    assert "<img" not in body and "cid:" not in body
    assert 'width="86%" style="width:86%;height:14px;' in body


def test_subject_names_the_model_and_how_many_suites_it_is_better_on():
    message = build_event_email(config_with_email(), event_comparison(), report_path=None)

    assert message["Subject"] == "[model-monitor] sim:gpt-sim-next: better on 2 of 3 suites"


def test_subject_uses_the_configured_prefix_and_says_drift():
    config = config_with_email(subject_prefix="[evals]")
    message = build_event_email(config, event_comparison(), report_path=None, event_kind="drift")

    assert message["Subject"] == "[evals] drift: sim:gpt-sim-next: better on 2 of 3 suites"


def test_headers_carry_from_to_date_and_a_message_id_on_the_sender_domain():
    config = config_with_email(to=["a@example.com", "B <b@example.org>"])
    message = reparsed(build_event_email(config, event_comparison(), report_path=None))

    assert message["From"].addresses[0].addr_spec == "monitor@example.com"
    assert [a.addr_spec for a in message["To"].addresses] == ["a@example.com", "b@example.org"]
    assert message["Date"].datetime is not None
    assert str(message["Message-ID"]).endswith("@example.com>")


def test_model_id_with_crlf_cannot_inject_a_bcc_header():
    comparison = event_comparison(candidate="sim:evil\r\nBcc: evil@x\r\nX-Injected: 1")
    raw = build_event_email(config_with_email(), comparison, report_path=None).as_string()
    message = reparsed(build_event_email(config_with_email(), comparison, report_path=None))

    assert message.get_all("Bcc") is None
    assert message.get_all("X-Injected") is None
    assert len(message.get_all("Subject") or []) == 1
    headers = raw.split("\n\n", 1)[0]
    assert not any(line.lower().startswith(("bcc:", "x-injected:")) for line in headers.splitlines())
    assert "\r" not in str(message["Subject"]) and "\n" not in str(message["Subject"])


def test_very_long_model_id_is_bounded_in_the_subject():
    message = build_event_email(
        config_with_email(), event_comparison(candidate="sim:" + "x" * 5000), report_path=None
    )

    assert len(str(message["Subject"])) < 260


HOSTILE = '<script>alert("x")</script></textarea><img src=x onerror=alert(1)>{{ 7*7 }}'


def test_hostile_model_output_in_a_flipped_sample_is_escaped_in_the_html_part():
    comparison = event_comparison(flipped=[flip("s001", HOSTILE, prompt="<b>bold?</b>")])
    html = html_of(reparsed(build_event_email(config_with_email(), comparison, report_path=None)))

    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "{{ 7*7 }}" in html


def test_huge_answers_and_control_characters_are_bounded_and_stripped():
    answer = "A\u202eevil\x00\x1b[31m" + "y" * 1_000_000
    comparison = event_comparison(flipped=[flip("s001", answer)])
    message = build_event_email(config_with_email(), comparison, report_path=None)
    html = html_of(reparsed(message))

    assert len(message.as_string()) < 200_000
    assert "\u202e" not in html and "\x00" not in html and "\x1b" not in html
    assert "Aevil[31m" in html


def test_html_part_is_email_safe_tables_and_inline_styles_with_one_narrow_screen_media_query():
    html = html_of(reparsed(build_event_email(config_with_email(), event_comparison(), report_path=None)))

    lowered = html.lower()
    assert "<table" in lowered and 'style="' in lowered
    [style] = re.findall(r"<style>(.*?)</style>", lowered, re.S)
    assert style.strip().startswith("@media only screen and (max-width: 480px) {")
    assert style.count("@media") == 1 and "@import" not in style and "url(" not in style
    for forbidden in ("<svg", "<script", "<link", "javascript:", "<img"):
        assert forbidden not in lowered
    # Without the media query (clients that drop <style>) every element still has its inline style.
    assert set(re.findall(r'class="([^"]*)"', lowered)) == {"mm-outer", "mm-pad", "mm-metric", "mm-secondary"}
    for tag in re.findall(r"<[a-z][^>]*class=[^>]*>", lowered):
        assert 'style="' in tag, tag


def test_text_part_has_headline_per_suite_lines_flip_counts_and_report_path(tmp_path):
    comparison = event_comparison(flipped=[flip("s001", "4"), flip("s002", "4")])
    report = tmp_path / "reports" / "event-7.html"
    text = text_of(reparsed(build_event_email(config_with_email(), comparison, report_path=report)))

    assert comparison.headline in text
    for suite in ("arithmetic", "qa", "reasoning"):
        assert f"== {suite} (version v1) ==" in text
    assert "pass rate 86.0% (95% CI 81.0% – 91.0%); mean grade 86.0% (95% CI 81.0% – 91.0%)" in text
    assert "verdict   better: +8.0 pts" in text
    assert "verdict   no measurable difference: −1.0 pts" in text
    assert "flipped   2 fail -> pass, 0 pass -> fail" in text
    assert "$0.6000 per 1,000 samples" in text
    assert f"Full report: {report}" in text


def test_unknown_cost_is_said_not_shown_as_zero():
    comparison = event_comparison()
    comparison.suites[0].candidate.cost_usd = None
    comparison.suites[0].candidate.cost_per_1k = None
    text = text_of(reparsed(build_event_email(config_with_email(), comparison, report_path=None)))

    assert "cost unknown (unknown per 1,000 samples)" in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", ["team@example.com\r\nBcc: evil@x"]),
        ("to", ["not an address"]),
        ("to", ["a@example.com, b@example.com"]),
        ("to", []),
        ("from", "monitor@example.com\nX-Evil: 1"),
        ("from", "@example.com"),
    ],
)
def test_a_bad_address_in_the_config_is_a_config_error(field, value):
    config = email_config(**{field: value})

    with pytest.raises(ConfigError) as caught:
        message_addresses(config)
    assert caught.value.exit_code == 2
    assert "[email]" in str(caught.value)


def test_clean_text_keeps_one_line_without_control_or_bidi_characters():
    assert clean_text("a\r\nb\tc\u202ed\u200be", 50) == "a b cde"
    assert clean_text("x" * 30, 10) == "x" * 9 + "…"


def test_event_email_from_stored_runs_through_compare_event(db):
    config = Config(
        providers={"sim": ProviderConfig(type="openai-compatible", base_url="http://127.0.0.1:1/v1")},
        baseline=BaselineConfig(default=["sim:gpt-sim"]),
        email=email_config(),
        path=Path("/tmp/monitor.toml"),
    )
    with db.session() as session:
        suite = add_suite(session, "arithmetic", size=40)
        event = add_event(session, "new_model", "sim:gpt-sim-next")
        add_run(session, suite, "sim:gpt-sim", [i % 2 == 0 for i in range(40)], event=event)
        outputs = ['<script>alert("answer")</script>'] * 40
        add_run(session, suite, "sim:gpt-sim-next", [True] * 40, event=event, outputs=outputs)
        comparison = compare_event(session, config, event.id)
    message = reparsed(build_event_email(config, comparison, report_path=None))

    assert message["Subject"] == "[model-monitor] sim:gpt-sim-next: better on 1 of 1 suite"
    html = html_of(message)
    assert "&lt;script&gt;alert(" in html and "<script>" not in html
    assert "Flipped samples: 20 fail &rarr; pass, 0 pass &rarr; fail" in html
    assert "and 15 more in the full report." in html
