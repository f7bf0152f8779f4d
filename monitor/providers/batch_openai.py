"""OpenAI's Batch API: a JSONL file of chat or Responses calls, one batch per file, answers read back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import openai

from monitor.core.config import ProviderConfig
from monitor.providers.base import BadRequest, ChatRequest, Provider, ProviderError
from monitor.providers.batch import (
    CLOCK_SKEW,
    ENDED,
    FAILED,
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
from monitor.providers.openai import NO_KEY, OpenAIProvider

TAG_KEY = "model_monitor_batch"
"""The metadata key that marks a batch with the tag of the `batches` row that submitted it."""
WINDOW = "24h"
_OPEN = ("validating", "in_progress", "finalizing", "cancelling")
_ENDED = ("completed", "expired", "cancelled")


class OpenAIBatches(SdkBatches):
    """`/v1/batches` of one `type = "openai"` account, its lines built and read by the chat adapter."""

    sdk = openai
    client_class = openai.OpenAI
    errors = (openai.OpenAIError, ValueError)

    def __init__(self, name: str, cfg: ProviderConfig, provider: Provider) -> None:
        if not isinstance(provider, OpenAIProvider):
            raise BadRequest("the OpenAI batch API needs the OpenAI adapter", provider=name)
        super().__init__(name, cfg, provider.base_url)
        self._provider = provider

    def _api_key(self) -> str:
        return self._key or NO_KEY

    def unbatchable(self, request: ChatRequest) -> str | None:
        return None

    def submit(self, items: Sequence[BatchItem], *, tag: str) -> str:
        """Upload the lines (one endpoint per batch: the model's) and create the batch, tagged."""
        lines: list[str] = []
        endpoints: set[str] = set()
        for item in items:
            endpoint, kwargs = self._provider.batch_call(item.request)
            endpoints.add(endpoint)
            line = {"custom_id": item.custom_id, "method": "POST", "url": endpoint, "body": sdk_body(kwargs)}
            lines.append(json.dumps(line, ensure_ascii=False))
        if len(endpoints) != 1:
            raise BadRequest("a batch's requests must all go to one endpoint", provider=self.name)
        endpoint = endpoints.pop()
        data = ("\n".join(lines) + "\n").encode()
        upload = self._call(
            "upload a batch file",
            lambda c: c.files.create(file=(f"{tag}.jsonl", data, "application/jsonl"), purpose="batch"),
        )
        batch = self._call(
            "create a batch",
            lambda c: c.batches.create(
                input_file_id=upload.id,
                endpoint=endpoint,
                completion_window=WINDOW,
                metadata={TAG_KEY: tag},
            ),
        )
        return str(batch.id)

    def find(self, tag: str, *, since: datetime, count: int) -> Search:
        """The batch whose metadata carries `tag` (OpenAI lists newest first): found, or surely absent."""
        cutoff = (since - CLOCK_SKEW).timestamp()
        after: str | None = None
        for _ in range(MAX_PAGES):
            page = self._call(
                "list batches",
                lambda c, cursor=after: c.batches.list(
                    limit=PAGE_SIZE, **({"after": cursor} if cursor else {})
                ),
            )
            for batch in page.data:
                if (batch.metadata or {}).get(TAG_KEY) == tag:
                    return Search(str(batch.id), settled=True)
            if any(b.created_at < cutoff for b in page.data) or not page.has_more or not page.data:
                return Search(None, settled=True)
            after = page.data[-1].id
        return Search(None, settled=False)

    def state(self, remote_id: str) -> BatchState:
        batch = self._call("read a batch", lambda c: c.batches.retrieve(remote_id))
        counts = batch.request_counts
        detail = batch.status
        if counts is not None:
            detail += f" ({counts.completed} of {counts.total} done, {counts.failed} failed)"
        if batch.status in _OPEN:
            return BatchState(OPEN, detail)
        if batch.status in _ENDED:
            return BatchState(ENDED, detail)
        errors = [e.message or e.code or "" for e in (batch.errors.data or [])] if batch.errors else []
        return BatchState(FAILED, f"{detail}: {'; '.join(e for e in errors if e) or 'no reason given'}")

    def answers(self, remote_id: str) -> list[ItemAnswer]:
        """The output file's answers, parsed as sync answers, and the error file's items as errors."""
        batch = self._call("read a batch", lambda c: c.batches.retrieve(remote_id))
        endpoint = batch.endpoint or "/v1/chat/completions"
        found: list[ItemAnswer] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            text = self._call("read a batch's answers", lambda c, f=file_id: c.files.content(f).text)
            found.extend(self._line(line, endpoint) for line in text.splitlines() if line.strip())
        return found

    def _line(self, line: str, endpoint: str) -> ItemAnswer:
        try:
            item = json.loads(line)
            custom_id = str(item["custom_id"])
        except (ValueError, KeyError, TypeError):
            return ItemAnswer("", None, "an unreadable line in the batch's answers")
        response = item.get("response") or {}
        body = response.get("body")
        if item.get("error") or response.get("status_code") != 200 or not isinstance(body, dict):
            error = item.get("error")
            if not isinstance(error, dict) and isinstance(body, dict):
                error = body.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            status = response.get("status_code")
            return ItemAnswer(custom_id, None, f"{status or 'no status'}: {message or 'no answer'}")
        try:
            return ItemAnswer(custom_id, self._provider.batch_answer(endpoint, body))
        except (ProviderError, TypeError, ValueError) as exc:
            return ItemAnswer(custom_id, None, f"unreadable answer: {exc}")
