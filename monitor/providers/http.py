"""HTTP failure handling every adapter shares: key redaction, retry-after parsing, status -> typed error."""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.providers.base import (
    AuthError,
    BadRequest,
    BadResponse,
    ConnectionFailed,
    ModelNotFound,
    Overloaded,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
)

MESSAGE_LIMIT = 500

# Key-shaped tokens redacted from any provider text, whatever key was configured.
_KEY_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|(?:gsk|xai|pplx|r8)_[A-Za-z0-9]{12,})"
)
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_TRY_AGAIN = re.compile(r"(?:try again|retry) in ((?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s))+)", re.IGNORECASE)
_QUOTA_CODES = {
    "insufficient_quota",
    "billing_error",
    "billing_hard_limit_reached",
    "enforced_spend_limit_reached",
    "contract_spend_limit_reached",
    "linked_organization_spend_limit_reached",
}
_LOADING_MESSAGE = "loading model"
"""llama.cpp's 503 while it loads the model (tools/server/server-http.cpp)."""
_MAX_UNIX_S = 1e11
"""A larger `created` is in milliseconds (1e11 seconds is the year 5138)."""
_AUTH_REASONS = {"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every given secret and every key-shaped token replaced by `[redacted]`."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "[redacted]")
    return _KEY_SHAPES.sub("[redacted]", text)


def parse_duration(value: Any) -> float | None:
    """Seconds from a protobuf ("38s", "0.5s") or Go ("6m0s", "1h2m3.5s", "20ms") duration; else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def ratelimit_reset_from_headers(headers: Mapping[str, str] | None) -> float | None:
    """The longest `x-ratelimit-reset-{requests,tokens}` (Go durations) of a limit whose remaining is 0."""
    if not headers:
        return None
    waits = []
    for limit in ("requests", "tokens"):
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{limit}"))
        if reset is not None and str(headers.get(f"x-ratelimit-remaining-{limit}", "")).strip() == "0":
            waits.append(reset)
    return max(waits) if waits else None


def retry_after_from_headers(
    headers: Mapping[str, str] | None, *, now: datetime | None = None
) -> float | None:
    """`retry-after-ms`, then `retry-after` (seconds, or an HTTP date less `now`); None when absent."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_object(body: Any) -> dict[str, Any]:
    """The inner error object of any provider's error body (object, array-wrapped, or flat)."""
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return {}
    inner = body.get("error")
    if isinstance(inner, dict):
        return inner
    return body


def retry_after_from_body(body: Any) -> float | None:
    """Gemini's `RetryInfo.retryDelay`, or OpenAI's "Please try again in 3.89s", in seconds."""
    err = error_object(body)
    for detail in error_details(err):
        if str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = parse_duration(detail.get("retryDelay"))
            if delay is not None:
                return delay
    message = err.get("message")
    if isinstance(message, str):
        match = _TRY_AGAIN.search(message)
        if match:
            return parse_duration(match.group(1))
    return None


def error_details(err: dict[str, Any]) -> list[dict[str, Any]]:
    """The error's `details` objects: Google's list of typed details, or Anthropic's one object."""
    details = err.get("details")
    if isinstance(details, dict):
        return [details]
    if isinstance(details, list):
        return [d for d in details if isinstance(d, dict)]
    return []


def is_daily_quota(details: list[dict[str, Any]]) -> bool:
    """Whether Google's `QuotaFailure` names a per-day quota (`quotaId` "...PerDay..."), not per-minute."""
    for detail in details:
        if not str(detail.get("@type", "")).endswith("QuotaFailure"):
            continue
        for violation in detail.get("violations") or []:
            if isinstance(violation, dict) and "perday" in str(violation.get("quotaId", "")).lower():
                return True
    return False


def parse_created(value: Any) -> datetime | None:
    """Unix seconds or milliseconds (a number or a numeric string) or an ISO 8601 string -> aware UTC
    datetime; None when absent, unreadable or the epoch (Anthropic's placeholder for an unknown date)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            return parsed if parsed.timestamp() > 0 else None
    if isinstance(value, int | float):
        if value <= 0:
            return None
        try:
            return datetime.fromtimestamp(value / 1000.0 if value > _MAX_UNIX_S else value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def decode_body(raw: bytes | str | None) -> Any:
    """A response body as JSON when it parses, else the text (for messages only)."""
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_from_status(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None,
    *,
    provider: str,
    secrets: Iterable[str | None] = (),
) -> ProviderError:
    """The typed error for an HTTP error status and body; its message is redacted."""
    err = error_object(body)
    message = err.get("message") if isinstance(err.get("message"), str) else None
    if message is None:
        message = body if isinstance(body, str) and body.strip() else "no error message"
    details = error_details(err)
    codes = {str(err.get("code") or ""), str(err.get("error_code") or "")}
    codes |= {str(d.get("error_code")) for d in details if d.get("error_code") is not None}
    etype = str(err.get("type") or err.get("status") or "")
    reasons = {str(d.get("reason")) for d in details if d.get("reason") is not None}
    label = f" {etype}" if etype else ""
    text = redact(f"HTTP {status}{label}: {message}"[:MESSAGE_LIMIT], secrets)
    retry_after = retry_after_from_headers(headers)
    if retry_after is None:
        retry_after = retry_after_from_body(body)
    if retry_after is None and status == 429:
        retry_after = ratelimit_reset_from_headers(headers)
    if status in (401, 403) or reasons & _AUTH_REASONS:
        return AuthError(text, provider=provider, status=status)
    if status == 402 or codes & _QUOTA_CODES or etype in _QUOTA_CODES:
        return QuotaExhausted(text, provider=provider, status=status)
    if status == 429 and is_daily_quota(details):
        return QuotaExhausted(f"daily quota exhausted: {text}", provider=provider, status=status)
    if status == 404:
        return ModelNotFound(text, provider=provider, status=status)
    if status == 408:
        return ProviderTimeout(text, provider=provider, status=status, retry_after=retry_after)
    if status == 429:
        return RateLimited(text, provider=provider, status=status, retry_after=retry_after)
    if status >= 500:
        loading = status == 503 and message.strip().lower() == _LOADING_MESSAGE
        if loading:
            text = f"{text} (the server is still loading its model)"
        return Overloaded(text, provider=provider, status=status, retry_after=retry_after, loading=loading)
    return BadRequest(text, provider=provider, status=status)


def map_sdk_error(
    sdk: Any, exc: BaseException, *, provider: str, secrets: Iterable[str | None]
) -> ProviderError:
    """An exception of the openai or anthropic SDK (`sdk` is the module; both share these class
    names) or a JSON decode failure inside it -> the typed ProviderError, key redacted."""
    if isinstance(exc, sdk.APIStatusError):
        return error_from_status(
            exc.status_code,
            decode_body(exc.response.content),
            exc.response.headers,
            provider=provider,
            secrets=secrets,
        )
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderTimeout("no answer within the timeout", provider=provider)
    if isinstance(exc, sdk.APIConnectionError):
        return connection_error(exc, provider=provider, secrets=secrets)
    if isinstance(exc, sdk.APIResponseValidationError | ValueError):
        return BadResponse(redact(f"unreadable response: {exc}"[:MESSAGE_LIMIT], secrets), provider=provider)
    return ProviderError(redact(f"{type(exc).__name__}: {exc}"[:MESSAGE_LIMIT], secrets), provider=provider)


def connection_error(exc: BaseException, *, provider: str, secrets: Iterable[str | None]) -> ProviderError:
    """An SDK connection failure: a body cut off mid-way is a bad response, anything else a connection one."""
    cause = exc.__cause__
    detail = f"{type(cause).__name__}: {cause}" if cause else str(exc)
    if "incomplete" in detail.lower() or "complete message body" in detail:
        message = redact(f"truncated response body ({detail})"[:MESSAGE_LIMIT], secrets)
        return BadResponse(message, provider=provider)
    message = redact(f"connection failed ({detail})"[:MESSAGE_LIMIT], secrets)
    return ConnectionFailed(message, provider=provider)


def get_json(
    session: Any,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float,
    provider: str,
    secrets: Iterable[str | None] = (),
) -> Any:
    """GET `url` through a `requests.Session` and return the parsed JSON; every failure is typed."""
    import requests

    try:
        response = session.get(url, params=params, headers=headers, timeout=(min(timeout_s, 10.0), timeout_s))
    except requests.Timeout:
        raise ProviderTimeout(f"no answer within {timeout_s:g}s", provider=provider) from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        raise BadResponse(
            redact(f"truncated response body: {exc}"[:MESSAGE_LIMIT], secrets), provider=provider
        ) from None
    except requests.RequestException as exc:
        raise ConnectionFailed(
            redact(f"connection failed: {exc}"[:MESSAGE_LIMIT], secrets), provider=provider
        ) from None
    if response.status_code >= 400:
        raise error_from_status(
            response.status_code,
            decode_body(response.content),
            response.headers,
            provider=provider,
            secrets=secrets,
        )
    try:
        return json.loads(response.content)
    except ValueError:
        raise BadResponse(
            f"HTTP {response.status_code}: the body is not valid JSON ({len(response.content)} bytes)",
            provider=provider,
            status=response.status_code,
        ) from None
