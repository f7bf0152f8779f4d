"""Answers one admitted chat, Responses or Messages body: the code both the synchronous endpoints and
batch items run, so a batch item gets exactly the answer the synchronous call would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from monitor.simulator import anthropic_api, openai_api, responses_api
from monitor.simulator.admit import chat_fault
from monitor.simulator.state import SimState

FaultStep = Callable[[str], Awaitable[tuple[web.StreamResponse | None, str | None]]]
"""Model id -> (the failing response, None), (None, an answer variant such as "refusal") or (None, None)."""


def live_faults(state: SimState, request: web.Request, api: str, provider: str, request_id: str) -> FaultStep:
    """The chat faults of a synchronous request, which may also stall or break its connection."""

    async def step(model_id: str) -> tuple[web.StreamResponse | None, str | None]:
        return await chat_fault(state, request, api, provider, model_id, request_id)

    return step


async def openai_chat(state: SimState, body: Any, request_id: str, faults: FaultStep) -> web.StreamResponse:
    """POST /v1/chat/completions after admission: validation, model lookup, faults, the answer."""
    if bad := openai_api.validate_chat(body, "openai", request_id):
        return bad
    model = state.catalog.lookup("openai", body["model"])
    if model is None:
        return openai_api.not_found(body["model"], request_id)
    if not model.chat:
        return openai_api.not_chat(model.id, request_id)
    if model.responses_only:
        return responses_api.responses_only(request_id)
    failed, outcome = await faults(model.id)
    if failed:
        return failed
    return await openai_api.chat(state, model, body, request_id, outcome)


async def openai_responses(
    state: SimState, body: Any, request_id: str, faults: FaultStep
) -> web.StreamResponse:
    """POST /v1/responses after admission: every OpenAI chat model answers here."""
    if bad := responses_api.validate(body, request_id):
        return bad
    model = state.catalog.lookup("openai", body["model"])
    if model is None or not model.chat:
        return openai_api.not_found(body["model"], request_id)
    failed, outcome = await faults(model.id)
    if failed:
        return failed
    return await responses_api.respond(state, model, body, request_id, outcome)


async def anthropic_messages(
    state: SimState, body: Any, version: str, request_id: str, faults: FaultStep
) -> web.StreamResponse:
    """POST /v1/messages after admission and the version check: validation, lookup, faults, the answer."""
    if bad := anthropic_api.validate(body, version, request_id):
        return bad
    model = state.catalog.lookup("anthropic", str(body["model"]))
    if model is None:
        return anthropic_api.not_found(str(body["model"]), request_id)
    failed, outcome = await faults(model.id)
    if failed:
        return failed
    return await anthropic_api.messages(state, model, body, request_id, outcome)
