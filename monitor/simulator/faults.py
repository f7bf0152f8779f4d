"""Injected faults: which request gets one (by model, provider, endpoint, count or rate) and how it fails."""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field

from aiohttp import web

from monitor.simulator.errors import anthropic_error, error_for, json_response, openai_error

OUTCOME_KINDS = ("refusal", "content_filter", "pause_turn", "context_window")
"""Faults that are answers: a 200 whose body is the provider's own refusal, filter or cut-off variant."""
FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "overloaded",
    "timeout",
    "reset",
    "malformed_json",
    "truncated",
    "loading",
    "quota_daily",
    "spend_limit",
    "empty_object",
    *OUTCOME_KINDS,
)
DAILY_QUOTA_ID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
MINUTE_QUOTA_ID = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
ENDPOINTS = ("chat", "models", "batch")


@dataclass
class Fault:
    """One fault rule. With neither `rate` nor `count` it hits every matching request."""

    kind: str
    model: str | None = None
    provider: str | None = None
    endpoint: str = "chat"
    rate: float | None = None
    count: int | None = None
    retry_after: float = 0.05
    hang_s: float = 30.0
    hits: int = field(default=0, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}")
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be chat, models or batch, not {self.endpoint!r}")
        if self.kind in OUTCOME_KINDS and self.endpoint != "chat":
            raise ValueError(f"kind {self.kind!r} is an answer variant: endpoint must be chat")
        if self.provider is not None and self.provider not in ("openai", "anthropic", "gemini"):
            raise ValueError(f"provider must be openai, anthropic or gemini, not {self.provider!r}")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {self.rate}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be >= 0, not {self.count}")
        if self.retry_after < 0 or self.hang_s < 0:
            raise ValueError("retry_after and hang_s must be >= 0")

    def matches(self, provider: str, endpoint: str, model: str | None) -> bool:
        if self.endpoint != endpoint or (self.provider is not None and self.provider != provider):
            return False
        return self.model is None or self.model == model


class FaultPlan:
    """Decides, request by request, which fault (if any) applies; counts what it injected."""

    def __init__(self, faults: list[Fault], seed: int = 0) -> None:
        self.faults = faults
        self.injected: dict[str, int] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def pick(self, provider: str, endpoint: str, model: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if not fault.matches(provider, endpoint, model):
                    continue
                if fault.count is not None:
                    if fault.hits >= fault.count:
                        continue
                elif fault.rate is not None and self._random.random() >= fault.rate:
                    continue
                fault.hits += 1
                self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
                return fault
        return None


async def fault_response(
    fault: Fault, request: web.Request, api: str, request_id: str
) -> web.StreamResponse | None:
    """The failing response for `fault`, or None when the request should then be answered normally."""
    if fault.kind == "rate_limit":
        message = {
            "openai": "Rate limit reached for requests per min (RPM). Please try again in a moment.",
            "anthropic": "Number of request tokens has exceeded your per-minute rate limit.",
        }.get(api, "Resource has been exhausted (e.g. check quota).")
        return error_for(
            api,
            429,
            message,
            request_id=request_id,
            openai_type="requests",
            code="rate_limit_exceeded",
            retry_after=fault.retry_after,
            quota_id=MINUTE_QUOTA_ID,
        )
    if fault.kind in ("quota_daily", "spend_limit", "loading", "empty_object"):
        return quota_or_state_response(fault.kind, api, request_id)
    if fault.kind == "server_error":
        return error_for(
            api,
            500,
            "The server had an error while processing your request. Sorry about that!"
            if api == "openai"
            else "Internal server error",
            request_id=request_id,
            openai_type="server_error",
        )
    if fault.kind == "overloaded":
        if api == "anthropic":
            return error_for(api, 529, "Overloaded", request_id=request_id)
        message = (
            "Our servers are currently overloaded. Please try again later."
            if api == "openai"
            else "The model is overloaded. Please try again later."
        )
        return error_for(
            api,
            503,
            message,
            request_id=request_id,
            openai_type="service_unavailable_error",
            code="server_is_overloaded",
        )
    if fault.kind == "timeout":
        await asyncio.sleep(fault.hang_s)
        return None
    if fault.kind == "reset":
        _abort(request)
        raise asyncio.CancelledError
    if fault.kind == "malformed_json":
        return web.Response(
            body=b'{"id": "broken", "object": "chat.completion", "choices": [{"index": 0, "message": {"ro',
            status=200,
            content_type="application/json",
        )
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = 4096
    await response.prepare(request)
    await response.write(b'{"id": "truncated", "object": "chat.completion", "choices": [')
    _abort(request)
    raise asyncio.CancelledError


def quota_or_state_response(kind: str, api: str, request_id: str) -> web.Response:
    """A per-day limit, a spend limit, llama.cpp's "Loading model" 503, or a bare `{}` answer."""
    if kind == "empty_object":
        return json_response({})
    if kind == "loading":
        body = {"error": {"message": "Loading model", "type": "unavailable_error", "code": 503}}
        return json_response(body, 503)
    if api == "anthropic":
        message = "You have reached your specified API usage limits. You will regain access on 2026-12-01."
        return anthropic_error(
            429,
            message,
            request_id=request_id,
            error_code="enforced_spend_limit_reached",
            headers={"retry-after": "3600"},
        )
    if api == "openai" and kind == "spend_limit":
        message = "You exceeded your current quota, please check your plan and billing details."
        return error_for(api, 429, message, request_id=request_id, code="insufficient_quota")
    if api == "openai":
        # A per-day limit: no retry-after, only the hint and Go-style reset durations of hours.
        message = (
            "Rate limit reached for gpt-sim in organization org-sim on requests per day (RPD): "
            "Limit 200, Used 200, Requested 1. Please try again in 6m0s."
        )
        headers = {
            "x-request-id": request_id,
            "x-ratelimit-limit-requests": "200",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "6m0s",
        }
        return openai_error(429, message, type_="requests", code="rate_limit_exceeded", headers=headers)
    message = "You exceeded your current quota, please check your plan and billing details."
    return error_for(api, 429, message, request_id=request_id, retry_after=23.0, quota_id=DAILY_QUOTA_ID)


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()
