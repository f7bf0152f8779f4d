"""Anthropic's Message Batches (providers.md §2): create, retrieve, list, cancel, and the results JSONL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from monitor.simulator import answer
from monitor.simulator.admit import admit, inject, page_limit, read_json
from monitor.simulator.batch_items import batch_state, item_faults, record, server_error
from monitor.simulator.batch_store import Answer, Item, Job
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.state import SimState

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_REQUESTS = 100_000


def _time(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad(message: str, request_id: str, status: int = 400) -> web.Response:
    return error_for("anthropic", status, message, request_id=request_id)


async def _start(request: web.Request, endpoint: str) -> tuple[SimState, str, str, web.StreamResponse | None]:
    """Admission for every Message Batches call: the key, `anthropic-version`, any `endpoint: batch` fault."""
    state, request_id, refused = admit(request, endpoint, "anthropic", limit=False)
    version = request.headers.get("anthropic-version", "")
    if refused is not None:
        return state, request_id, version, refused
    if not version:
        return state, request_id, version, _bad("anthropic-version: header is required", request_id)
    failed = await inject(state, request, "anthropic", "anthropic", "batch", None, request_id)
    return state, request_id, version, failed


def parse_requests(body: Any) -> tuple[list[Item], str | None]:
    """The items of a create body, or the 400 message naming the first bad field."""
    if not isinstance(body, dict):
        return [], "There was an issue with your request body."
    requests = body.get("requests")
    if not isinstance(requests, list):
        return [], "requests: Field required"
    if not 1 <= len(requests) <= MAX_REQUESTS:
        return [], f"requests: a batch holds 1 to {MAX_REQUESTS} requests, not {len(requests)}"
    items: list[Item] = []
    seen: set[str] = set()
    for index, entry in enumerate(requests):
        where = f"requests.{index}"
        if not isinstance(entry, dict) or "custom_id" not in entry or "params" not in entry:
            return [], f"{where}: custom_id and params are required"
        custom_id = entry["custom_id"]
        if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
            return [], f"{where}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        if custom_id in seen:
            return [], f"{where}.custom_id: duplicate custom_id {custom_id!r}; each must be unique"
        if not isinstance(entry["params"], dict):
            return [], f"{where}.params: Input should be a valid dictionary"
        seen.add(custom_id)
        items.append(Item(custom_id, entry["params"]))
    return items, None


async def create_batch(request: web.Request) -> web.StreamResponse:
    """POST /v1/messages/batches: each request's params are checked when it is answered, as Anthropic does."""
    state, request_id, version, refused = await _start(request, "anthropic.batches.create")
    if refused:
        return refused
    items, problem = parse_requests(await read_json(request))
    if problem is not None:
        return _bad(problem, request_id)
    store = state.batches
    job = Job(
        state.next_id("msgbatch_sim"), "anthropic", store.clock(), items, store.options, {"version": version}
    )
    store.add(job)
    return json_response(batch_object(job, request), headers={"request-id": request_id})


def _answerer(state: SimState, request: web.Request, job: Job) -> Answer:
    fast = batch_state(state)

    async def one(item: Item, failed: bool) -> None:
        request_id = state.next_id("req_")
        if failed:
            response = await server_error(request, "anthropic", request_id)
        else:
            faults = item_faults(state, request, "anthropic", "anthropic", request_id)
            response = await answer.anthropic_messages(
                fast, item.body, job.info["version"], request_id, faults
            )
        record(item, response, request_id)

    return one


def result_of(item: Item) -> dict[str, Any]:
    """One results line's `result`: succeeded with the Message, errored with the error body, or why not."""
    if item.state == "answered" and item.status_code < 300:
        return {"type": "succeeded", "message": item.response}
    if item.state == "answered":
        return {"type": "errored", "error": item.response}
    return {"type": "canceled" if item.state == "cancelled" else "expired"}


def batch_object(job: Job, request: web.Request) -> dict[str, Any]:
    """The `MessageBatch` object; counts other than `processing` stay 0 until the batch has ended."""
    ended = job.end_state is not None
    results = [result_of(item)["type"] for item in job.items] if ended else []
    counts = {kind: results.count(kind) for kind in ("succeeded", "errored", "canceled", "expired")}
    url = f"{request.url.origin()}/v1/messages/batches/{job.id}/results"
    return {
        "id": job.id,
        "type": "message_batch",
        "processing_status": "ended"
        if ended
        else "canceling"
        if job.cancel_at is not None
        else "in_progress",
        "request_counts": {"processing": 0 if ended else len(job.items), **counts},
        "ended_at": _time(job.ended_at),
        "created_at": _time(job.created_at),
        "expires_at": _time(job.expires_at),
        "archived_at": None,
        "cancel_initiated_at": _time(job.cancel_at),
        "results_url": url if ended else None,
    }


async def _found(request: web.Request, endpoint: str) -> tuple[SimState, str, Job | web.StreamResponse]:
    """Admission, then the batch named in the path brought up to the clock (or the refusal or 404)."""
    state, request_id, _, refused = await _start(request, endpoint)
    if refused:
        return state, request_id, refused
    batch_id = request.match_info["batch_id"]
    job = state.batches.jobs.get(batch_id)
    if job is None or job.provider != "anthropic":
        return state, request_id, _bad(f"message_batch_id: no batch {batch_id!r}", request_id, 404)
    await state.batches.settle(job, _answerer(state, request, job))
    return state, request_id, job


async def get_batch(request: web.Request) -> web.StreamResponse:
    _, request_id, job = await _found(request, "anthropic.batches.retrieve")
    if not isinstance(job, Job):
        return job
    return json_response(batch_object(job, request), headers={"request-id": request_id})


async def cancel_batch(request: web.Request) -> web.StreamResponse:
    """POST .../cancel: `canceling` now, `ended` with the unanswered requests canceled on the next read."""
    state, request_id, job = await _found(request, "anthropic.batches.cancel")
    if not isinstance(job, Job):
        return job
    if job.end_state is None and job.cancel_at is None:
        job.cancel_at = state.batches.clock()
    return json_response(batch_object(job, request), headers={"request-id": request_id})


async def results(request: web.Request) -> web.StreamResponse:
    """GET the batch's `results_url`: one `{custom_id, result}` line per request, in request order."""
    _, request_id, job = await _found(request, "anthropic.batches.results")
    if not isinstance(job, Job):
        return job
    if job.end_state is None:
        message = f"message_batch_id: batch {job.id!r} has no results until processing has ended"
        return _bad(message, request_id, 404)
    lines = [
        json.dumps({"custom_id": item.custom_id, "result": result_of(item)}) + "\n" for item in job.items
    ]
    headers = {"request-id": request_id}
    return web.Response(body="".join(lines).encode(), content_type="application/x-jsonl", headers=headers)


async def list_batches(request: web.Request) -> web.StreamResponse:
    """GET /v1/messages/batches: newest first, `limit` (1-1000, default 20), `after_id` or `before_id`."""
    state, request_id, _, refused = await _start(request, "anthropic.batches.list")
    if refused:
        return refused
    limit = page_limit(request, 1000)
    if limit is None:
        return _bad("limit: Input should be between 1 and 1000", request_id)
    jobs = state.batches.newest_first("anthropic")
    ids = [job.id for job in jobs]
    after, before = request.query.get("after_id"), request.query.get("before_id")
    cursor = after or before
    if cursor is not None and cursor not in ids:
        return _bad(f"Invalid cursor: {cursor}", request_id)
    if after is not None:
        rest = jobs[ids.index(after) + 1 :]
        page, has_more = rest[:limit], len(rest) > limit
    elif before is not None:
        rest = jobs[: ids.index(before)]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = jobs[:limit], len(jobs) > limit
    for job in page:
        await state.batches.settle(job, _answerer(state, request, job))
    body = {
        "data": [batch_object(job, request) for job in page],
        "has_more": has_more,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }
    return json_response(body, headers={"request-id": request_id})
