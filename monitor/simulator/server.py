"""The simulator's HTTP server: one aiohttp app on one loopback port speaking all three providers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web

from monitor.simulator import (
    answer,
    anthropic_api,
    anthropic_batch_api,
    batch_api,
    batch_files,
    gemini_api,
    openai_api,
)
from monitor.simulator.admit import STATE, admit, api_of, chat_fault, inject, rate_limited, read_json
from monitor.simulator.batch_store import DAY_S, BatchOptions, BatchStore
from monitor.simulator.catalog import Catalog, SimModel, default_models
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.faults import Fault, FaultPlan
from monitor.simulator.ratelimit import TokenBucket
from monitor.simulator.state import OPENAI_LIST_QUIRKS, SimState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Simulator:
    """A running provider simulator; see docs/simulator.md."""

    def __init__(
        self,
        models: list[SimModel] | None = None,
        faults: list[Fault] | None = None,
        api_key: str | None = "sim-key",
        rpm_limit: float | None = None,
        latency_scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        openai_list_quirk: str | None = None,
        seed: int = 0,
        batch_delay_s: float = 0.0,
        batch_item_failure_rate: float = 0.0,
        batch_window_s: float = DAY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if openai_list_quirk not in OPENAI_LIST_QUIRKS:
            raise ValueError(
                f"openai_list_quirk must be one of {OPENAI_LIST_QUIRKS}, not {openai_list_quirk!r}"
            )
        if latency_scale < 0:
            raise ValueError(f"latency_scale must be >= 0, not {latency_scale}")
        self.state = SimState(
            catalog=Catalog(list(models) if models is not None else default_models()),
            faults=FaultPlan(list(faults or []), seed=seed),
            api_key=api_key,
            latency_scale=latency_scale,
            limiter=TokenBucket(rpm_limit) if rpm_limit else None,
            openai_list_quirk=openai_list_quirk,
            batches=BatchStore(
                clock, BatchOptions(batch_delay_s, batch_item_failure_rate, batch_window_s), seed=seed
            ),
        )
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def models(self) -> list[SimModel]:
        return self.state.catalog.models

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the simulator is not running")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = build_app(self.state)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def stats(self) -> dict[str, Any]:
        return self.state.snapshot()

    def release(self, model_id: str) -> None:
        self.state.catalog.release(model_id)

    def remove(self, model_id: str) -> None:
        self.state.catalog.remove(model_id)

    @contextlib.contextmanager
    def running(self) -> Iterator[Simulator]:
        """Serve from a daemon thread with its own event loop; stop and join on exit."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        thread = threading.Thread(target=serve, name="model-monitor-simulator", daemon=True)
        thread.start()
        started.wait()
        if failure:
            thread.join()
            raise failure[0]
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_sim/"):
        return await handler(request)
    stats = request.app[STATE].stats
    stats.enter("Authorization" in request.headers)
    try:
        return await handler(request)
    finally:
        stats.leave()


def build_app(state: SimState) -> web.Application:
    app = web.Application(middlewares=[count_requests], client_max_size=64 * 1024 * 1024)
    app[STATE] = state
    app.router.add_get("/_sim/stats", sim_stats)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{name}", get_model)
    app.router.add_post("/v1/models/{name}", gemini_generate)
    app.router.add_post("/v1/chat/completions", openai_chat)
    app.router.add_post("/v1/responses", openai_responses)
    app.router.add_post("/v1/messages", anthropic_messages)
    app.router.add_post("/v1/messages/batches", anthropic_batch_api.create_batch)
    app.router.add_get("/v1/messages/batches", anthropic_batch_api.list_batches)
    app.router.add_get("/v1/messages/batches/{batch_id}", anthropic_batch_api.get_batch)
    app.router.add_post("/v1/messages/batches/{batch_id}/cancel", anthropic_batch_api.cancel_batch)
    app.router.add_get("/v1/messages/batches/{batch_id}/results", anthropic_batch_api.results)
    app.router.add_post("/v1/files", batch_files.upload_file)
    app.router.add_get("/v1/files/{file_id}", batch_files.get_file)
    app.router.add_get("/v1/files/{file_id}/content", batch_files.file_content)
    app.router.add_post("/v1/batches", batch_api.create_batch)
    app.router.add_get("/v1/batches", batch_api.list_batches)
    app.router.add_get("/v1/batches/{batch_id}", batch_api.get_batch)
    app.router.add_post("/v1/batches/{batch_id}/cancel", batch_api.cancel_batch)
    app.router.add_get("/v1beta/models", gemini_models)
    app.router.add_get("/v1beta/models/{name}", gemini_get_model)
    app.router.add_post("/v1beta/models/{name}", gemini_generate)
    app.router.add_get("/v1beta/openai/models", gemini_openai_models)
    app.router.add_post("/v1beta/openai/chat/completions", gemini_openai_chat)
    return app


async def sim_stats(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].snapshot())


async def list_models(request: web.Request) -> web.StreamResponse:
    """GET /v1/models: Anthropic with `anthropic-version`, Gemini with a Google key, else OpenAI."""
    api = api_of(request)
    if api == "anthropic":
        return await anthropic_models(request)
    if api == "gemini":
        return await gemini_models(request)
    return await openai_models(request)


async def get_model(request: web.Request) -> web.StreamResponse:
    """GET /v1/models/{id} for whichever provider the headers name."""
    api = api_of(request)
    if api == "gemini":
        return await gemini_get_model(request)
    state, request_id, refused = admit(request, f"{api}.model", api, limit=False)
    if refused:
        return refused
    model_id = request.match_info["name"]
    if api == "anthropic":
        model = state.catalog.lookup("anthropic", model_id)
        if model is None:
            return anthropic_api.not_found(model_id, request_id)
        return json_response(anthropic_api.model_object(model), headers={"request-id": request_id})
    model = state.catalog.lookup("openai", model_id)
    if model is None:
        return openai_api.not_found(model_id, request_id)
    return json_response(openai_api.model_object(model, state.openai_list_quirk))


async def openai_models(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "openai.models", "openai")
    if refused:
        return refused
    if failed := await inject(state, request, "openai", "openai", "models", None, request_id):
        return failed
    state.catalog.count_poll("openai")
    body = openai_api.list_body(state.catalog.listed("openai"), state.openai_list_quirk)
    return json_response(body, headers={"x-request-id": request_id})


async def openai_chat(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "openai.chat", "openai")
    if refused:
        return refused
    body = await read_json(request)
    faults = answer.live_faults(state, request, "openai", "openai", request_id)
    return await answer.openai_chat(state, body, request_id, faults)


async def openai_responses(request: web.Request) -> web.StreamResponse:
    """POST /v1/responses: every OpenAI chat model answers here (Responses-only ones only here)."""
    state, request_id, refused = admit(request, "openai.responses", "openai")
    if refused:
        return refused
    body = await read_json(request)
    faults = answer.live_faults(state, request, "openai", "openai", request_id)
    return await answer.openai_responses(state, body, request_id, faults)


async def anthropic_models(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "anthropic.models", "anthropic")
    if refused:
        return refused
    first_page = "after_id" not in request.query and "before_id" not in request.query
    if first_page and (
        failed := await inject(state, request, "anthropic", "anthropic", "models", None, request_id)
    ):
        return failed
    return anthropic_api.list_page(state, request.query, request_id)


async def anthropic_messages(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "anthropic.messages", "anthropic", limit=False)
    if refused:
        return refused
    version = request.headers.get("anthropic-version")
    if not version:
        return error_for("anthropic", 400, "anthropic-version: header is required", request_id=request_id)
    if limited := rate_limited(state, "anthropic", request_id):
        return limited
    body = await read_json(request)
    faults = answer.live_faults(state, request, "anthropic", "anthropic", request_id)
    return await answer.anthropic_messages(state, body, version, request_id, faults)


async def gemini_models(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "gemini.models", "gemini")
    if refused:
        return refused
    first_page = "pageToken" not in request.query
    if first_page and (
        failed := await inject(state, request, "gemini", "gemini", "models", None, request_id)
    ):
        return failed
    return gemini_api.list_page(state, request.query)


async def gemini_get_model(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "gemini.model", "gemini", limit=False)
    if refused:
        return refused
    model_id = request.match_info["name"].removeprefix("models/")
    model = state.catalog.lookup("gemini", model_id)
    if model is None:
        return gemini_api.not_found(model_id, request_id)
    return json_response(gemini_api.model_object(model))


async def gemini_generate(request: web.Request) -> web.StreamResponse:
    """POST /v1beta/models/{id}:generateContent (also under /v1/)."""
    state, request_id, refused = admit(request, "gemini.generate", "gemini", limit=False)
    if refused:
        return refused
    model_id, _, method = request.match_info["name"].partition(":")
    if method != "generateContent":
        return gemini_api.not_found(model_id, request_id)
    if limited := rate_limited(state, "gemini", request_id):
        return limited
    body = await read_json(request)
    if not isinstance(body, dict):
        return error_for("gemini", 400, "Invalid JSON payload received.", request_id=request_id)
    model = state.catalog.lookup("gemini", model_id)
    if model is None or not model.chat:
        return gemini_api.not_found(model_id, request_id)
    failed, outcome = await chat_fault(state, request, "gemini", "gemini", model.id, request_id)
    if failed:
        return failed
    return await gemini_api.generate_content(state, model, body, request_id, outcome)


async def gemini_openai_models(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "gemini.openai_models", "gemini-openai")
    if refused:
        return refused
    if failed := await inject(state, request, "gemini-openai", "gemini", "models", None, request_id):
        return failed
    return gemini_api.openai_list(state)


async def gemini_openai_chat(request: web.Request) -> web.StreamResponse:
    state, request_id, refused = admit(request, "gemini.chat", "gemini-openai")
    if refused:
        return refused
    body = await read_json(request)
    if bad := openai_api.validate_chat(body, "gemini-openai", request_id):
        return bad
    model_id = body["model"].removeprefix("models/")
    model = state.catalog.lookup("gemini", model_id)
    if model is None or not model.chat:
        return gemini_api.not_found(model_id, request_id, wrapped=True)
    if model.system_prompt is False and openai_api.has_system(body):
        return gemini_api.no_system_prompt(model.id)
    failed, outcome = await chat_fault(state, request, "gemini-openai", "gemini", model.id, request_id)
    if failed:
        return failed
    return await gemini_api.openai_chat(state, model, body, request_id, outcome)
