"""Answers batch items with the synchronous endpoints' own code, without latency or rate limit, with
the chat faults that make sense inside a batch and the configured share of server errors."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from aiohttp import web

from monitor.simulator.answer import FaultStep
from monitor.simulator.batch_store import Item
from monitor.simulator.faults import OUTCOME_KINDS, Fault, fault_response
from monitor.simulator.state import SimState

UNFIT_KINDS = ("reset", "truncated", "malformed_json", "empty_object", "loading")
"""Faults of a connection or a local server, meaningless inside a batch: the item gets a server error."""


def batch_state(state: SimState) -> SimState:
    """The same catalog, faults and ids, answering at once: the batch delay stands for the latency."""
    return dataclasses.replace(state, latency_scale=0.0)


def item_faults(state: SimState, request: web.Request, api: str, provider: str, request_id: str) -> FaultStep:
    """The scripted chat faults applied to one item: answer variants as in a synchronous call, error
    faults as the item's error response, a stall (`timeout`) not at all, a broken connection as a 500."""

    async def step(model_id: str) -> tuple[web.StreamResponse | None, str | None]:
        fault = state.faults.pick(provider, "chat", model_id)
        if fault is None or fault.kind == "timeout":
            return None, None
        if fault.kind in OUTCOME_KINDS:
            return None, fault.kind
        if fault.kind in UNFIT_KINDS:
            fault = Fault("server_error")
        return await fault_response(fault, request, api, request_id), None

    return step


async def server_error(request: web.Request, api: str, request_id: str) -> web.StreamResponse:
    """The item answer of a failure draw: the provider's 500, as the `server_error` fault gives it."""
    response = await fault_response(Fault("server_error"), request, api, request_id)
    assert response is not None
    return response


def record(item: Item, response: web.StreamResponse, request_id: str) -> None:
    """Keep an item's answer: its status code and decoded JSON body."""
    item.state = "answered"
    item.request_id = request_id
    item.status_code = response.status
    item.response = decode(response)


def decode(response: web.StreamResponse) -> Any:
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes):
        return json.loads(body)
    return {}
