"""OpenAI's Files and Batch API (providers.md §1): JSONL upload, batch lifecycle, output and error files."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from monitor.simulator import answer
from monitor.simulator.admit import page_limit, read_json
from monitor.simulator.batch_files import bad, missing_file, start, store_file
from monitor.simulator.batch_items import batch_state, item_faults, record, server_error
from monitor.simulator.batch_store import Answer, Item, Job
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.state import SimState

ENDPOINTS = ("/v1/chat/completions", "/v1/responses")
WINDOWS = ("24h",)
EXPIRED = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}
CANCELLED = {
    "code": "batch_cancelled",
    "message": "This request was not executed because the batch was cancelled.",
}


def _missing_batch(batch_id: str, request_id: str) -> web.Response:
    return error_for("openai", 404, f"No batch found with id '{batch_id}'.", request_id=request_id)


def parse_input(content: bytes, endpoint: str) -> tuple[list[Item], list[dict[str, Any]]]:
    """The items of a batch input file, or the `BatchError`s that fail the batch in validation."""
    items: list[Item] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    model: Any = None

    def error(code: str, message: str, line: int, param: str | None = None) -> None:
        errors.append({"code": code, "message": message, "line": line, "param": param})

    for number, raw in enumerate(content.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            line = None
        if not isinstance(line, dict):
            error("invalid_json_line", "This line is not parseable as valid JSON.", number)
            continue
        missing = [key for key in ("custom_id", "method", "url", "body") if key not in line]
        if missing:
            error(
                "missing_required_parameter",
                f"Missing required parameter: '{missing[0]}'.",
                number,
                missing[0],
            )
            continue
        custom_id, body = line["custom_id"], line["body"]
        if line["method"] != "POST":
            error(
                "invalid_value",
                f"Invalid method {line['method']!r}: batch requests use POST.",
                number,
                "method",
            )
        elif line["url"] != endpoint:
            message = f"The URL '{line['url']}' of this line does not match the batch endpoint '{endpoint}'."
            error("url_mismatch", message, number, "url")
        elif not isinstance(custom_id, str) or not custom_id:
            error("invalid_value", "custom_id must be a non-empty string.", number, "custom_id")
        elif custom_id in seen:
            error(
                "duplicate_custom_id",
                f"The custom_id '{custom_id}' is used more than once.",
                number,
                "custom_id",
            )
        elif items and isinstance(body, dict) and body.get("model") != model:
            message = (
                f"Every request of a batch must use one model: {body.get('model')!r} here, {model!r} before."
            )
            error("model_mismatch", message, number, "body.model")
        else:
            seen.add(custom_id)
            model = body.get("model") if isinstance(body, dict) else None
            items.append(Item(custom_id, body))
    if not items and not errors:
        error("empty_file", "The input file has no requests.", 1)
    return (items if not errors else []), errors


async def create_batch(request: web.Request) -> web.StreamResponse:
    """POST /v1/batches: the batch starts `validating`; its input file's problems show once it is read."""
    state, request_id, refused = await start(request, "openai.batches.create")
    if refused:
        return refused
    body = await read_json(request)
    if not isinstance(body, dict):
        return bad("We could not parse the JSON body of your request.", request_id)
    for name in ("input_file_id", "endpoint", "completion_window"):
        if name not in body:
            return bad(
                f"Missing required parameter: '{name}'.",
                request_id,
                param=name,
                code="missing_required_parameter",
            )
    for name, allowed in (("endpoint", ENDPOINTS), ("completion_window", WINDOWS)):
        if body[name] not in allowed:
            supported = " and ".join(f"'{value}'" for value in allowed)
            message = f"Invalid value: '{body[name]}'. Supported values are: {supported}."
            return bad(message, request_id, param=name, code="invalid_value")
    metadata = body.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and all(isinstance(v, str) for v in metadata.values())
        and len(metadata) <= 16
    ):
        return bad(
            "Invalid 'metadata': up to 16 string keys with string values.", request_id, param="metadata"
        )
    stored = state.batches.files.get(str(body["input_file_id"]))
    if stored is None:
        return missing_file(str(body["input_file_id"]), request_id, "input_file_id")
    if stored.object["purpose"] != "batch":
        return bad("The input file must have purpose 'batch'.", request_id, param="input_file_id")
    items, errors = parse_input(stored.content, body["endpoint"])
    info = {key: body[key] for key in ("input_file_id", "endpoint", "completion_window")}
    info.update(metadata=metadata, errors=errors)
    store = state.batches
    job = store.add(Job(state.next_id("batch_sim"), "openai", store.clock(), items, store.options, info))
    return json_response(batch_object(job))


def _answerer(state: SimState, request: web.Request, job: Job) -> Answer:
    fast = batch_state(state)
    run = answer.openai_chat if job.info["endpoint"] == "/v1/chat/completions" else answer.openai_responses

    async def one(item: Item, failed: bool) -> None:
        request_id = state.next_id("req_")
        if failed:
            response = await server_error(request, "openai", request_id)
        else:
            response = await run(
                fast, item.body, request_id, item_faults(state, request, "openai", "openai", request_id)
            )
        record(item, response, request_id)

    return one


async def settle(state: SimState, request: web.Request, job: Job) -> None:
    """Bring a batch up to the clock; once it has ended, write its output and error files."""
    job.seen = True
    if job.info["errors"]:
        return
    await state.batches.settle(job, _answerer(state, request, job))
    if job.end_state is not None and "output_file_id" not in job.info:
        good: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for item in job.items:
            line = output_line(state, item)
            (good if item.state == "answered" and item.status_code < 300 else failed).append(line)
        for key, lines, name in (("output_file_id", good, "output"), ("error_file_id", failed, "error")):
            content = "".join(json.dumps(line) + "\n" for line in lines).encode()
            job.info[key] = (
                store_file(state, content, f"{job.id}_{name}.jsonl", "batch_output")["id"] if lines else None
            )


def output_line(state: SimState, item: Item) -> dict[str, Any]:
    """One line of an output or error file (`{id, custom_id, response, error}`)."""
    line: dict[str, Any] = {"id": state.next_id("batch_req_sim"), "custom_id": item.custom_id}
    if item.state == "answered":
        line["response"] = {
            "status_code": item.status_code,
            "request_id": item.request_id,
            "body": item.response,
        }
        line["error"] = None
    else:
        line["response"] = None
        line["error"] = EXPIRED if item.state == "expired" else CANCELLED
    return line


def status(job: Job) -> str:
    if not job.seen:
        return "validating"
    if job.info["errors"]:
        return "failed"
    if job.end_state is None:
        return "cancelling" if job.cancel_at is not None else "in_progress"
    return job.end_state


def _tokens(used: dict[str, Any], *path: str) -> int:
    """The token count at the first of `path`'s dotted keys the usage object has (0 when none)."""
    for dotted in path:
        value: Any = used
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int):
            return value
    return 0


def usage(job: Job) -> dict[str, Any]:
    """Token usage over the answered items (chat's prompt/completion or Responses' input/output tokens)."""
    used = [
        item.response["usage"]
        for item in job.items
        if item.state == "answered" and isinstance(item.response, dict)
        if isinstance(item.response.get("usage"), dict)
    ]
    inputs = sum(_tokens(u, "prompt_tokens", "input_tokens") for u in used)
    outputs = sum(_tokens(u, "completion_tokens", "output_tokens") for u in used)
    cached = sum(
        _tokens(u, "prompt_tokens_details.cached_tokens", "input_tokens_details.cached_tokens") for u in used
    )
    reasoning = sum(
        _tokens(u, "completion_tokens_details.reasoning_tokens", "output_tokens_details.reasoning_tokens")
        for u in used
    )
    return {
        "input_tokens": inputs,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": outputs,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inputs + outputs,
    }


def batch_object(job: Job) -> dict[str, Any]:
    """The `Batch` object as the SDK declares it."""
    current = status(job)
    done = [item for item in job.items if item.state != "pending"]
    succeeded = sum(1 for item in done if item.state == "answered" and item.status_code < 300)

    def at(moment: float | None, *states: str) -> int | None:
        return int(moment) if moment is not None and current in states else None

    errors = job.info["errors"]
    return {
        "id": job.id,
        "object": "batch",
        "endpoint": job.info["endpoint"],
        "errors": {"object": "list", "data": errors} if errors else None,
        "input_file_id": job.info["input_file_id"],
        "completion_window": job.info["completion_window"],
        "status": current,
        "output_file_id": job.info.get("output_file_id"),
        "error_file_id": job.info.get("error_file_id"),
        "created_at": int(job.created_at),
        "in_progress_at": None if current in ("validating", "failed") else int(job.created_at),
        "expires_at": int(job.expires_at),
        "finalizing_at": at(job.ended_at, "completed", "expired"),
        "completed_at": at(job.ended_at, "completed"),
        "failed_at": int(job.created_at) if current == "failed" else None,
        "expired_at": at(job.ended_at, "expired"),
        "cancelling_at": at(job.cancel_at, "cancelling", "cancelled"),
        "cancelled_at": at(job.ended_at, "cancelled"),
        "request_counts": {"total": len(job.items), "completed": succeeded, "failed": len(done) - succeeded},
        "metadata": job.info["metadata"],
        "usage": usage(job),
    }


def _job(state: SimState, batch_id: str) -> Job | None:
    job = state.batches.jobs.get(batch_id)
    return job if job is not None and job.provider == "openai" else None


async def _found(request: web.Request, endpoint: str) -> tuple[SimState, str, Job | web.StreamResponse]:
    """Admission, then the batch named in the path brought up to the clock (or the refusal or 404)."""
    state, request_id, refused = await start(request, endpoint)
    if refused:
        return state, request_id, refused
    job = _job(state, request.match_info["batch_id"])
    if job is None:
        return state, request_id, _missing_batch(request.match_info["batch_id"], request_id)
    await settle(state, request, job)
    return state, request_id, job


async def get_batch(request: web.Request) -> web.StreamResponse:
    _, request_id, job = await _found(request, "openai.batches.retrieve")
    if not isinstance(job, Job):
        return job
    return json_response(batch_object(job), headers={"x-request-id": request_id})


async def list_batches(request: web.Request) -> web.StreamResponse:
    """GET /v1/batches: newest first, `limit` (1-100, default 20) after the id `after`."""
    state, request_id, refused = await start(request, "openai.batches.list")
    if refused:
        return refused
    limit = page_limit(request, 100)
    if limit is None:
        return bad("Invalid 'limit': expected an integer between 1 and 100.", request_id, param="limit")
    jobs = state.batches.newest_first("openai")
    after = request.query.get("after")
    if after is not None:
        ids = [job.id for job in jobs]
        if after not in ids:
            return bad(f"Invalid 'after': no batch {after!r}.", request_id, param="after")
        jobs = jobs[ids.index(after) + 1 :]
    page = jobs[:limit]
    for job in page:
        await settle(state, request, job)
    body = {
        "object": "list",
        "data": [batch_object(job) for job in page],
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
        "has_more": len(jobs) > limit,
    }
    return json_response(body, headers={"x-request-id": request_id})


async def cancel_batch(request: web.Request) -> web.StreamResponse:
    """POST /v1/batches/{id}/cancel: `cancelling` now, `cancelled` (answered items kept) on the next read."""
    state, request_id, job = await _found(request, "openai.batches.cancel")
    if not isinstance(job, Job):
        return job
    current = status(job)
    if current in ("completed", "failed", "expired"):
        message = f"Cannot cancel a batch with status '{current}'."
        return error_for("openai", 409, message, request_id=request_id)
    if job.cancel_at is None:
        job.cancel_at = state.batches.clock()
    return json_response(batch_object(job), headers={"x-request-id": request_id})
