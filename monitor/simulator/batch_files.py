"""OpenAI's Files API as batches use it: upload a JSONL input file, read a file's object and content."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.simulator.admit import admit, inject
from monitor.simulator.batch_store import StoredFile
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.state import SimState


def bad(message: str, request_id: str, *, param: str | None = None, code: str | None = None) -> web.Response:
    return error_for("openai", 400, message, request_id=request_id, param=param, code=code)


def missing_file(file_id: str, request_id: str, param: str = "id") -> web.Response:
    return error_for("openai", 404, f"No such File object: {file_id}", request_id=request_id, param=param)


def store_file(state: SimState, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
    """Keep a file; returns its `FileObject`."""
    file_id = state.next_id("file-sim")
    obj = {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": int(state.batches.clock()),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }
    state.batches.files[file_id] = StoredFile(obj, content)
    return obj


async def start(request: web.Request, endpoint: str) -> tuple[SimState, str, web.StreamResponse | None]:
    """Admission for every Files and Batch call: the key, then any `endpoint: batch` fault."""
    state, request_id, refused = admit(request, endpoint, "openai", limit=False)
    if refused is not None:
        return state, request_id, refused
    return state, request_id, await inject(state, request, "openai", "openai", "batch", None, request_id)


async def upload_file(request: web.Request) -> web.StreamResponse:
    """POST /v1/files (multipart `file` and `purpose`); only batch input files are kept."""
    state, request_id, refused = await start(request, "openai.files.create")
    if refused:
        return refused
    try:
        form = await request.post()
    except ValueError:
        return bad("The request body must be multipart/form-data.", request_id)
    upload = form.get("file")
    purpose = form.get("purpose")
    if not isinstance(upload, web.FileField):
        return bad("Missing required parameter: 'file'.", request_id, param="file")
    if purpose != "batch":
        message = f"Invalid value for 'purpose': {purpose!r}; the simulator keeps 'batch' files only."
        return bad(message, request_id, param="purpose", code="invalid_value")
    return json_response(store_file(state, upload.file.read(), upload.filename, "batch"))


async def _found(request: web.Request, endpoint: str) -> StoredFile | web.StreamResponse:
    """Admission, then the file named in the path (or the refusal or 404)."""
    state, request_id, refused = await start(request, endpoint)
    if refused:
        return refused
    stored = state.batches.files.get(request.match_info["file_id"])
    if stored is None:
        return missing_file(request.match_info["file_id"], request_id)
    return stored


async def get_file(request: web.Request) -> web.StreamResponse:
    stored = await _found(request, "openai.files.retrieve")
    if not isinstance(stored, StoredFile):
        return stored
    return json_response(stored.object)


async def file_content(request: web.Request) -> web.StreamResponse:
    """GET /v1/files/{id}/content: the file's bytes (JSONL for batch files)."""
    stored = await _found(request, "openai.files.content")
    if not isinstance(stored, StoredFile):
        return stored
    return web.Response(body=stored.content, content_type="application/octet-stream")
