"""The simulator's request admission: who is calling (key and dialect), the rpm limit, injected faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from monitor.simulator import anthropic_api, openai_api
from monitor.simulator.errors import error_for, gemini_key_invalid
from monitor.simulator.faults import OUTCOME_KINDS, fault_response
from monitor.simulator.state import SimState

STATE = web.AppKey("state", SimState)


def bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def rate_limited(state: SimState, api: str, request_id: str) -> web.Response | None:
    """429 with retry-after when the requests-per-minute bucket is empty."""
    if state.limiter is None:
        return None
    wait = state.limiter.take()
    if wait is None:
        return None
    state.stats.rate_limited += 1
    return error_for(
        api,
        429,
        "Rate limit reached for requests per min (RPM). Please try again shortly.",
        request_id=request_id,
        openai_type="requests",
        code="rate_limit_exceeded",
        retry_after=wait,
    )


async def read_json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return None


def page_limit(request: web.Request, most: int) -> int | None:
    """A list call's `limit` (20 when absent); None when it is not an integer from 1 to `most`."""
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        return None
    return limit if 1 <= limit <= most else None


async def inject(
    state: SimState,
    request: web.Request,
    api: str,
    provider: str,
    endpoint: str,
    model: str | None,
    request_id: str,
) -> web.StreamResponse | None:
    fault = state.faults.pick(provider, endpoint, model)
    if fault is None:
        return None
    return await fault_response(fault, request, api, request_id)


def api_of(request: web.Request) -> str:
    """Which provider a shared path (/v1/models) is addressed to, from the headers the SDKs send."""
    if "anthropic-version" in request.headers:
        return "anthropic"
    if "x-goog-api-key" in request.headers or "key" in request.query:
        return "gemini"
    return "openai"


def google_key(request: web.Request) -> str | None:
    return request.headers.get("x-goog-api-key") or request.query.get("key")


def anthropic_key(request: web.Request) -> str | None:
    """`x-api-key` wins over `Authorization: Bearer` when both are sent."""
    return request.headers.get("x-api-key") or bearer(request)


def _refuse(dialect: str, key: str | None, request_id: str) -> web.Response:
    """The provider's own answer to a missing or wrong key."""
    if dialect == "anthropic":
        return anthropic_api.auth_error(key, request_id)
    if dialect == "openai":
        return openai_api.auth_error(key, request_id)
    return gemini_key_invalid(key, wrapped=dialect == "gemini-openai")


_KEY_READERS: dict[str, Callable[[web.Request], str | None]] = {
    "openai": bearer,
    "anthropic": anthropic_key,
    "gemini": google_key,
    "gemini-openai": bearer,
}


def admit(
    request: web.Request, endpoint: str, dialect: str, *, limit: bool = True
) -> tuple[SimState, str, web.Response | None]:
    """Every handler's start: count the request, check its key, apply the rpm limit.

    Returns the state, a request id, and the refusal to send (None when the request may go on).
    """
    state = request.app[STATE]
    state.stats.count(endpoint)
    request_id = state.next_id("req_")
    key = _KEY_READERS[dialect](request)
    if state.api_key is not None and key != state.api_key:
        return state, request_id, _refuse(dialect, key, request_id)
    if limit:
        return state, request_id, rate_limited(state, dialect, request_id)
    return state, request_id, None


async def chat_fault(
    state: SimState,
    request: web.Request,
    api: str,
    provider: str,
    model: str,
    request_id: str,
) -> tuple[web.StreamResponse | None, str | None]:
    """A chat request's fault: (the failing response, None), or (None, an outcome kind the API module
    answers with, such as "refusal"), or (None, None) to answer normally."""
    fault = state.faults.pick(provider, "chat", model)
    if fault is None:
        return None, None
    if fault.kind in OUTCOME_KINDS:
        return None, fault.kind
    return await fault_response(fault, request, api, request_id), None
