"""Anthropic: list models page by page (`has_more`/`last_id`) and answer through the Messages API."""

from __future__ import annotations

import functools
import time
from typing import Any

import anthropic

from monitor.core.config import ProviderConfig
from monitor.providers import anthropic_wire
from monitor.providers.base import BadResponse, ChatRequest, Completion, ModelInfo
from monitor.providers.http import decode_body, map_sdk_error, parse_created
from monitor.providers.limits import limited_list_call, limiter_for
from monitor.providers.retry import list_deadline, with_retries
from monitor.providers.tls import tls_context

DEFAULT_BASE_URL = "https://api.anthropic.com"
PAGE_SIZE = 100
MAX_LIST_PAGES = 1000


class AnthropicProvider:
    """`type = "anthropic"`: every listed model is a Messages model; retired ones are skipped."""

    def __init__(
        self, name: str, cfg: ProviderConfig, api_key: str | None, *, page_size: int = PAGE_SIZE
    ) -> None:
        self.name = name
        self._cfg = cfg
        self._key = api_key
        self.page_size = page_size
        self.base_url = (cfg.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._sync: anthropic.Anthropic | None = None
        self._async: anthropic.AsyncAnthropic | None = None

    def _sync_client(self) -> anthropic.Anthropic:
        if self._sync is None:
            self._sync = anthropic.Anthropic(
                api_key=self._key,
                base_url=self.base_url,
                timeout=self._cfg.timeout_s,
                max_retries=0,
                http_client=anthropic.DefaultHttpxClient(verify=tls_context()),
            )
        return self._sync

    def _async_client(self) -> anthropic.AsyncAnthropic:
        if self._async is None:
            self._async = anthropic.AsyncAnthropic(
                api_key=self._key,
                base_url=self.base_url,
                timeout=self._cfg.timeout_s,
                max_retries=0,
                http_client=anthropic.DefaultAsyncHttpxClient(verify=tls_context()),
            )
        return self._async

    def _page(self, after_id: str | None) -> dict[str, Any]:
        """One page as plain JSON: the SDK's auth and headers, without building a pydantic model per
        entry (that parse was most of a poll's CPU for 1,000 models)."""
        client = self._sync_client()
        try:
            listing = client.models.with_raw_response.list
            if after_id:
                raw = listing(limit=self.page_size, after_id=after_id)
            else:
                raw = listing(limit=self.page_size)
            body = decode_body(raw.read())
        except (anthropic.AnthropicError, ValueError) as exc:
            raise map_sdk_error(anthropic, exc, provider=self.name, secrets=(self._key,)) from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise BadResponse("the model list page is not an object with a 'data' array", provider=self.name)
        return body

    def list_models(self) -> list[ModelInfo]:
        """All pages; a failure on any page fails the whole list (a partial list is never returned)."""
        deadline = list_deadline(self._cfg.timeout_s)
        found: list[ModelInfo] = []
        cursors: set[str] = set()
        after_id: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page = with_retries(
                functools.partial(
                    limited_list_call, limiter_for(self._cfg), functools.partial(self._page, after_id)
                ),
                max_retries=self._cfg.max_retries,
                deadline=deadline,
                what=f"{self.name}: list models",
            )
            found.extend(self._info(item) for item in page["data"] if item.get("lifecycle") != "retired")
            if not page.get("has_more"):
                return found
            last_id = page.get("last_id")
            if not isinstance(last_id, str) or not last_id or last_id in cursors:
                raise BadResponse("has_more is set but last_id does not advance", provider=self.name)
            cursors.add(last_id)
            after_id = last_id
        raise BadResponse(f"the model list has more than {MAX_LIST_PAGES} pages", provider=self.name)

    def _info(self, item: Any) -> ModelInfo:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise BadResponse("a model list entry has no string 'id'", provider=self.name)
        name = item.get("display_name")
        return ModelInfo(
            id=item["id"],
            display_name=name if isinstance(name, str) else None,
            created=parse_created(item.get("created_at")),
            owned_by="anthropic",
            raw=item,
        )

    def is_chat_model(self, info: ModelInfo) -> bool:
        """Every listed Anthropic model speaks Messages; only retired ones are not chat models."""
        return info.raw.get("lifecycle") != "retired"

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The `messages.create` arguments (anthropic_wire.request_kwargs); raises BadRequest."""
        return anthropic_wire.request_kwargs(request, provider=self.name)

    async def complete(self, request: ChatRequest) -> Completion:
        client = self._async_client()
        kwargs = self.request_kwargs(request)
        started = time.perf_counter()
        try:
            message = await client.messages.create(**kwargs)
        except (anthropic.AnthropicError, ValueError) as exc:
            raise map_sdk_error(anthropic, exc, provider=self.name, secrets=(self._key,)) from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        return anthropic_wire.completion(message, latency_ms=latency_ms, provider=self.name)

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.close()
            self._async = None
        if self._sync is not None:
            self._sync.close()
            self._sync = None
