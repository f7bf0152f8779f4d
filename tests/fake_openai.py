"""A fake OpenAI-shaped endpoint for adapter tests: records the JSON bodies the SDK sends, serves answers."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest
from pydantic import BaseModel


class FakeOpenAI:
    """Serves queued answers (SDK models or error bodies) through the real SDK client, in order.

    Installed by replacing `openai.DefaultAsyncHttpxClient`, which the adapters build their client
    with, so the SDK serialises every request exactly as it would for the real server.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._answers: list[tuple[int, dict[str, Any]]] = []
        transport = httpx2.MockTransport(self._handle)
        monkeypatch.setattr(
            openai, "DefaultAsyncHttpxClient", lambda **_kw: httpx2.AsyncClient(transport=transport)
        )

    def answer(self, model: BaseModel) -> None:
        """Queue a 200 answer: an SDK model as its JSON body (only the fields that were set)."""
        self._answers.append((200, model.model_dump(mode="json", exclude_unset=True)))

    def fail(self, status: int, message: str, *, param: str | None = None) -> None:
        """Queue an error answer in OpenAI's error-body shape."""
        error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
        self._answers.append((status, {"error": error}))

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        self.paths.append(request.url.path)
        self.headers.append(dict(request.headers))
        if not self._answers:
            return httpx2.Response(
                500, json={"error": {"message": "no answer queued", "type": "server_error"}}
            )
        status, body = self._answers.pop(0)
        return httpx2.Response(status, json=body, headers={"x-request-id": f"req_fake_{len(self.bodies)}"})
