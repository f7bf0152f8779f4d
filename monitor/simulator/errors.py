"""Each provider's own error bodies (providers.md §1.5, §2.5, §3.2), as aiohttp responses."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

ANTHROPIC_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response without aiohttp's slower defaults."""
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def openai_error(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return json_response(body, status, headers)


def anthropic_error(
    status: int,
    message: str,
    *,
    request_id: str,
    headers: dict[str, str] | None = None,
    error_code: str | None = None,
) -> web.Response:
    """Anthropic's error body; `error_code` adds the typed code and `details` (e.g. a spend limit)."""
    error: dict[str, Any] = {"type": ANTHROPIC_TYPE.get(status, "api_error"), "message": message}
    if error_code is not None:
        error["error_code"] = error_code
        error["details"] = {"error_code": error_code}
    body = {"type": "error", "error": error, "request_id": request_id}
    return json_response(body, status, {"request-id": request_id, **(headers or {})})


def gemini_error(
    status: int,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    wrapped: bool = False,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Google's RPC-style error; `wrapped` gives the `[{"error": ...}]` form of the OpenAI-compatible path."""
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": GEMINI_STATUS.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    body: Any = [{"error": error}] if wrapped else {"error": error}
    return json_response(body, status, headers)


def gemini_retry_details(retry_after: float, quota_id: str | None = None) -> list[dict[str, Any]]:
    """RetryInfo, then a QuotaFailure naming `quota_id` (per-day or per-minute) when given."""
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after:.3f}s"}
    ]
    if quota_id is not None:
        violation = {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": quota_id,
            "quotaDimensions": {"location": "global", "model": "gemini-sim"},
            "quotaValue": "250",
        }
        details.append({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]})
    return details


def ratelimit_429_headers(api: str, retry_after: float) -> dict[str, str]:
    """What a real 429 carries: a whole-second `retry-after`, the exact `retry-after-ms`, and the
    provider's rate-limit headers with the exhausted limit at 0."""
    seconds = max(1, math.ceil(retry_after))
    headers = {"retry-after": str(seconds), "retry-after-ms": str(max(1, round(retry_after * 1000)))}
    if api == "openai":
        headers.update(
            {
                "x-ratelimit-limit-requests": "60",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{retry_after:g}s",
                "x-ratelimit-limit-tokens": "1000000",
                "x-ratelimit-remaining-tokens": "999000",
                "x-ratelimit-reset-tokens": "6ms",
            }
        )
    elif api == "anthropic":
        reset = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers.update(
            {
                "anthropic-ratelimit-requests-limit": "60",
                "anthropic-ratelimit-requests-remaining": "0",
                "anthropic-ratelimit-requests-reset": reset,
            }
        )
    return headers


def gemini_key_invalid(key: str | None, *, wrapped: bool = False) -> web.Response:
    """A bad Gemini key is a 400 with reason API_KEY_INVALID; the key is echoed to test redaction."""
    message = (
        f"API key not valid. Please pass a valid API key. (key: {key})" if key else "API key not provided."
    )
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }
    ]
    return gemini_error(400, message, details=details, wrapped=wrapped)


def error_for(
    api: str,
    status: int,
    message: str,
    *,
    request_id: str,
    openai_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    retry_after: float | None = None,
    quota_id: str | None = None,
) -> web.Response:
    """One error in the shape of `api` ("openai", "anthropic", "gemini" native or "gemini-openai");
    `quota_id` names the Google quota of a 429 (its QuotaFailure detail)."""
    headers: dict[str, str] = {}
    if retry_after is not None and api in ("openai", "anthropic"):
        headers = ratelimit_429_headers(api, retry_after) if status == 429 else {}
        headers.setdefault("retry-after", str(max(1, math.ceil(retry_after))))
        headers.setdefault("retry-after-ms", str(max(1, round(retry_after * 1000))))
    if api == "openai":
        headers["x-request-id"] = request_id
        return openai_error(status, message, type_=openai_type, code=code, param=param, headers=headers)
    if api == "anthropic":
        return anthropic_error(status, message, request_id=request_id, headers=headers)
    details = (
        gemini_retry_details(retry_after, quota_id if status == 429 else None)
        if retry_after is not None
        else None
    )
    return gemini_error(status, message, details=details, wrapped=api == "gemini-openai", headers=headers)
