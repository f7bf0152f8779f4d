"""The registry (lazy SDK loading, key from the environment) and the shared error and retry-after rules."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from monitor.core.config import ProviderConfig
from monitor.core.errors import ConfigError
from monitor.providers import (
    AuthError,
    BadRequest,
    ModelNotFound,
    Overloaded,
    QuotaExhausted,
    RateLimited,
    get_provider,
)
from monitor.providers.http import (
    error_from_status,
    parse_created,
    parse_duration,
    redact,
    retry_after_from_body,
    retry_after_from_headers,
)
from monitor.providers.retry import with_retries


def test_importing_the_providers_package_loads_no_sdk() -> None:
    code = (
        "import sys, monitor.providers; print(sorted({'openai', 'anthropic', 'requests'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_key_variable_is_a_config_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MM_ABSENT_KEY", raising=False)
    cfg = ProviderConfig(type="anthropic", api_key_env="MM_ABSENT_KEY")
    with pytest.raises(ConfigError, match=r"\$MM_ABSENT_KEY"):
        get_provider("claude", cfg)


def test_compatible_provider_without_key_variable_needs_no_key() -> None:
    cfg = ProviderConfig(type="openai-compatible", base_url="http://127.0.0.1:9/v1")
    assert get_provider("local", cfg).name == "local"


def test_compatible_provider_without_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        get_provider("local", ProviderConfig(type="openai-compatible"))


@pytest.mark.parametrize(
    ("type_", "cls"),
    [
        ("openai", "OpenAIProvider"),
        ("openai-compatible", "OpenAIProvider"),
        ("anthropic", "AnthropicProvider"),
        ("gemini", "GeminiProvider"),
    ],
)
def test_each_type_maps_to_its_adapter(monkeypatch: pytest.MonkeyPatch, type_: str, cls: str) -> None:
    monkeypatch.setenv("MM_SOME_KEY", "k")
    cfg = ProviderConfig(type=type_, base_url="http://127.0.0.1:9/v1", api_key_env="MM_SOME_KEY")
    assert type(get_provider("p", cfg)).__name__ == cls


def test_redact_removes_the_given_key_and_key_shaped_tokens() -> None:
    text = "bad key sim-key-123 and sk-proj-ABCDEFGHIJKLMNOP and AIzaSyA1234567890abcdefghijklmnopq"
    cleaned = redact(text, ["sim-key-123"])
    assert "sim-key-123" not in cleaned and "sk-proj" not in cleaned and "AIza" not in cleaned
    assert cleaned.count("[redacted]") == 3


def test_retry_after_prefers_milliseconds_then_seconds_then_http_date() -> None:
    assert retry_after_from_headers({"retry-after-ms": "250", "retry-after": "9"}) == pytest.approx(0.25)
    assert retry_after_from_headers({"retry-after": "1.5"}) == pytest.approx(1.5)
    now = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    when = format_datetime(now + timedelta(seconds=20), usegmt=True)
    assert retry_after_from_headers({"retry-after": when}, now=now) == 20.0
    assert retry_after_from_headers({}) is None


def test_retry_after_from_gemini_retry_info_and_openai_message() -> None:
    gemini = [
        {
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"}],
            }
        }
    ]
    assert retry_after_from_body(gemini) == 38.0
    openai_body = {"error": {"message": "Rate limit reached ... Please try again in 3.89s. Visit ..."}}
    assert retry_after_from_body(openai_body) == pytest.approx(3.89)


def test_insufficient_quota_is_a_quota_error_and_not_retryable() -> None:
    body = {
        "error": {
            "message": "You exceeded your current quota",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    error = error_from_status(429, body, {}, provider="oa")
    assert isinstance(error, QuotaExhausted) and not error.retryable


def test_payment_required_is_a_quota_error() -> None:
    error = error_from_status(
        402, {"error": {"code": 402, "message": "Insufficient credits"}}, {}, provider="or"
    )
    assert isinstance(error, QuotaExhausted)


def test_vllm_error_with_int_code_maps_by_status() -> None:
    body = {
        "object": "error",
        "message": "The model `x` does not exist.",
        "type": "NotFoundError",
        "code": 404,
    }
    error = error_from_status(404, body, {}, provider="vllm")
    assert isinstance(error, ModelNotFound) and "does not exist" in str(error)


def test_gemini_invalid_key_400_is_an_auth_error_without_the_key() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. (key: my-gemini-key)",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
        }
    }
    error = error_from_status(400, body, {}, provider="g", secrets=["my-gemini-key"])
    assert isinstance(error, AuthError) and "my-gemini-key" not in str(error)


@pytest.mark.parametrize(("status", "cls"), [(400, BadRequest), (429, RateLimited), (529, Overloaded)])
def test_status_codes_map_to_typed_errors(status: int, cls: type) -> None:
    assert isinstance(error_from_status(status, "plain text body", {}, provider="p"), cls)


def test_with_retries_is_bounded_and_honours_retry_after() -> None:
    waits: list[float] = []
    calls = 0

    def always_limited() -> None:
        nonlocal calls
        calls += 1
        raise RateLimited("slow down", provider="p", retry_after=0.2)

    with pytest.raises(RateLimited):
        with_retries(always_limited, max_retries=3, deadline=float("inf"), what="t", sleep=waits.append)
    assert calls == 4 and waits == [0.2, 0.2, 0.2]


def test_with_retries_stops_on_a_retry_after_over_the_cap() -> None:
    calls = 0

    def far_future() -> None:
        nonlocal calls
        calls += 1
        raise RateLimited("come back tomorrow", provider="p", retry_after=3600)

    with pytest.raises(RateLimited):
        with_retries(far_future, max_retries=5, deadline=float("inf"), what="t", sleep=lambda _s: None)
    assert calls == 1


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("38s", 38.0), ("0.5s", 0.5), ("6m0s", 360.0), ("1h2m3.5s", 3723.5), ("20ms", 0.02), ("7m", 420.0)],
)
def test_go_and_protobuf_durations_are_parsed(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "6 minutes", "s", "3x", "1.5"])
def test_other_text_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


def test_a_try_again_hint_in_minutes_is_read() -> None:
    body = {"error": {"message": "Limit 200, Used 200, Requested 1. Please try again in 6m0s. Visit ..."}}
    assert retry_after_from_body(body) == 360.0


def test_a_429_without_retry_after_waits_for_the_exhausted_limit_reset() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1h30m0s",
        "x-ratelimit-remaining-tokens": "5000",
        "x-ratelimit-reset-tokens": "6ms",
    }
    error = error_from_status(429, {"error": {"message": "Rate limit reached"}}, headers, provider="groq")
    assert isinstance(error, RateLimited) and error.retry_after == 5400.0


def test_anthropic_spend_limit_in_error_details_is_a_quota_error() -> None:
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "You have reached your specified API usage limits.",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    assert isinstance(error_from_status(429, body, {"retry-after": "60"}, provider="claude"), QuotaExhausted)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1767225600, datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600000, datetime(2026, 1, 1, tzinfo=UTC)),
        ("1767225600", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", None),
        (0, None),
        (True, None),
        ("soon", None),
    ],
)
def test_created_values_are_read_and_the_epoch_is_unknown(value: object, expected: datetime | None) -> None:
    assert parse_created(value) == expected
