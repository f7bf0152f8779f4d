"""Anthropic's Message Batches: Messages calls sent together, their results read back as Completions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import anthropic

from monitor.core.config import ProviderConfig
from monitor.providers import anthropic_wire
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.base import BadRequest, ChatRequest, Provider, ProviderError
from monitor.providers.batch import (
    CLOCK_SKEW,
    ENDED,
    MAX_PAGES,
    OPEN,
    PAGE_SIZE,
    BatchItem,
    BatchState,
    ItemAnswer,
    SdkBatches,
    Search,
    sdk_body,
)


class AnthropicBatches(SdkBatches):
    """`/v1/messages/batches` of one `type = "anthropic"` account; requests built by the Messages adapter."""

    sdk = anthropic
    client_class = anthropic.Anthropic
    errors = (anthropic.AnthropicError, ValueError)

    def __init__(self, name: str, cfg: ProviderConfig, provider: Provider) -> None:
        if not isinstance(provider, AnthropicProvider):
            raise BadRequest("Message Batches need the Anthropic adapter", provider=name)
        super().__init__(name, cfg, provider.base_url)
        self._provider = provider

    def unbatchable(self, request: ChatRequest) -> str | None:
        try:
            self._provider.request_kwargs(request)
        except ProviderError as exc:
            return str(exc)
        return None

    def submit(self, items: Sequence[BatchItem], *, tag: str) -> str:
        """One Message Batch; requests that need the older API version (sampling params) send it for the
        whole batch, so all of a batch's requests must agree on it (a run's do: they share their params)."""
        requests: list[dict[str, Any]] = []
        headers: set[tuple[tuple[str, str], ...]] = set()
        for item in items:
            kwargs = self._provider.request_kwargs(item.request)
            headers.add(tuple(sorted((kwargs.get("extra_headers") or {}).items())))
            requests.append({"custom_id": item.custom_id, "params": sdk_body(kwargs)})
        if len(headers) != 1:
            raise BadRequest("a batch's requests must all use one API version", provider=self.name)
        extra_headers = dict(headers.pop()) or None
        batch = self._call(
            "create a message batch",
            lambda c: c.messages.batches.create(requests=requests, extra_headers=extra_headers),
        )
        return str(batch.id)

    def find(self, tag: str, *, since: datetime, count: int) -> Search:
        """Batches carry no metadata: a candidate has `count` requests and was created since `since`;
        an ended one is ours when its results' custom ids start with `tag`, a running one is undecided."""
        undecided = False
        after: str | None = None
        for _ in range(MAX_PAGES):
            page = self._call(
                "list message batches",
                lambda c, cursor=after: c.messages.batches.list(
                    limit=PAGE_SIZE, **({"after_id": cursor} if cursor else {})
                ),
            )
            for batch in page.data:
                if batch.created_at < since - CLOCK_SKEW:
                    return Search(None, settled=not undecided)
                if _total(batch) != count:
                    continue
                if batch.processing_status != "ended":
                    undecided = True
                elif self._first_custom_id(batch.id).startswith(tag):
                    return Search(str(batch.id), settled=True)
            if not page.has_more or not page.data:
                return Search(None, settled=not undecided)
            after = page.data[-1].id
        return Search(None, settled=False)

    def _first_custom_id(self, remote_id: str) -> str:
        results = self._call("read message batch results", lambda c: c.messages.batches.results(remote_id))
        for result in results:
            return str(result.custom_id)
        return ""

    def state(self, remote_id: str) -> BatchState:
        batch = self._call("read a message batch", lambda c: c.messages.batches.retrieve(remote_id))
        counts = batch.request_counts
        detail = (
            f"{batch.processing_status} ({counts.succeeded} succeeded, {counts.errored} errored, "
            f"{counts.expired} expired, {counts.canceled} canceled, {counts.processing} processing)"
        )
        return BatchState(ENDED if batch.processing_status == "ended" else OPEN, detail)

    def answers(self, remote_id: str) -> list[ItemAnswer]:
        """Every result: a succeeded one's message read as a call's answer, the others as errors."""
        results = self._call(
            "read message batch results", lambda c: list(c.messages.batches.results(remote_id))
        )
        found: list[ItemAnswer] = []
        for result in results:
            outcome = result.result
            if outcome.type != "succeeded":
                error = getattr(getattr(outcome, "error", None), "error", None)
                message = getattr(error, "message", None)
                found.append(ItemAnswer(result.custom_id, None, f"{outcome.type}: {message or 'no answer'}"))
                continue
            try:
                completion = anthropic_wire.completion(outcome.message, latency_ms=0.0, provider=self.name)
            except ProviderError as exc:
                found.append(ItemAnswer(result.custom_id, None, f"unreadable answer: {exc}"))
                continue
            found.append(ItemAnswer(result.custom_id, completion))
        return found


def _total(batch: Any) -> int:
    counts = batch.request_counts
    return int(counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired)
