"""Providers' batch APIs behind one interface: submit requests together, read a batch's state and answers.

OpenAI's Batch API and Anthropic's Message Batches answer at half price within 24 hours. Each adapter
(batch_openai, batch_anthropic) builds its requests and parses its answers with the same code as the
provider's sync call, so a batched answer is the Completion the sync call would have returned.
The calls are blocking (the pipeline runs them in a thread), retried under the provider's policy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, ClassVar, Protocol, TypeVar

from monitor.core.config import ProviderConfig
from monitor.providers.base import ChatRequest, Completion
from monitor.providers.http import map_sdk_error
from monitor.providers.limits import limited_list_call, limiter_for
from monitor.providers.retry import list_deadline, with_retries
from monitor.providers.tls import tls_context

T = TypeVar("T")

BATCH_TYPES = ("openai", "anthropic")
"""Provider types with a batch API the monitor uses; the others (gemini, openai-compatible) run sync."""

CLOCK_SKEW = timedelta(minutes=10)
"""How far a provider's clock may be behind ours when looking for a batch a crash may have submitted."""
PAGE_SIZE = 100
MAX_PAGES = 20
"""Batches listed per page and pages read when looking for a batch a crash may have submitted."""
OPEN, ENDED, FAILED = "open", "ended", "failed"
"""A batch's state, the same for every provider: still working, ended (its answers can be read; some
items may have errored or expired), or failed as a whole (nothing was answered)."""


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch and the id its answer comes back under."""

    custom_id: str
    request: ChatRequest


@dataclass(frozen=True)
class BatchState:
    """Where a submitted batch is: OPEN, ENDED or FAILED, with the provider's own words."""

    status: str
    detail: str


@dataclass(frozen=True)
class ItemAnswer:
    """One item's outcome: its Completion, or why there is none (errored, expired, unreadable)."""

    custom_id: str
    completion: Completion | None
    error: str | None = None


@dataclass(frozen=True)
class Search:
    """What the provider shows of a batch whose submission may have happened (a crash in between).

    `remote_id` is the batch found; with none, `settled` says whether the provider shows nothing (submit
    it) or a candidate that cannot be told apart yet (wait: submitting now could pay twice).
    """

    remote_id: str | None
    settled: bool


class BatchAPI(Protocol):
    """One provider account's batch API."""

    def unbatchable(self, request: ChatRequest) -> str | None:
        """Why this request cannot go in a batch (it is sent sync), or None."""
        ...

    def submit(self, items: Sequence[BatchItem], *, tag: str) -> str:
        """Create one batch of `items` marked with `tag`; returns the provider's batch id."""
        ...

    def find(self, tag: str, *, since: datetime, count: int) -> Search:
        """The batch of `count` requests marked `tag` created after `since`, if the provider has it."""
        ...

    def state(self, remote_id: str) -> BatchState:
        """The batch's state now."""
        ...

    def answers(self, remote_id: str) -> list[ItemAnswer]:
        """Every item the ended batch reports, answered or not (missing items are simply absent)."""
        ...

    def close(self) -> None:
        """Release HTTP connections."""
        ...


class SdkBatches:
    """What both SDK adapters share: one lazily made client per account, calls typed and retried, close."""

    sdk: ModuleType
    """The provider's SDK module (`openai` or `anthropic`): its client, errors and HTTP client."""
    client_class: ClassVar[Callable[..., Any]]
    errors: ClassVar[tuple[type[Exception], ...]]
    """What an SDK call may raise: the SDK's base error and a JSON decode failure inside it."""

    def __init__(self, name: str, cfg: ProviderConfig, base_url: str | None) -> None:
        self.name = name
        self._cfg = cfg
        self._base_url = base_url
        self._key = cfg.api_key()
        self._client: Any = None

    def _api_key(self) -> str | None:
        """The key the client is made with."""
        return self._key

    def _sdk(self) -> Any:
        if self._client is None:
            self._client = self.client_class(
                api_key=self._api_key(),
                base_url=self._base_url,
                timeout=self._cfg.timeout_s,
                max_retries=0,
                http_client=self.sdk.DefaultHttpxClient(verify=tls_context()),
            )
        return self._client

    def _call(self, what: str, call: Any) -> Any:
        """One SDK call, its errors typed (key redacted) and retried under the provider's policy."""

        def once() -> Any:
            try:
                return call(self._sdk())
            except self.errors as exc:
                raise map_sdk_error(self.sdk, exc, provider=self.name, secrets=(self._key,)) from None

        return retried(self._cfg, f"{self.name}: {what}", once)

    def close(self) -> None:
        """Release HTTP connections."""
        if self._client is not None:
            self._client.close()
            self._client = None


def retried(cfg: ProviderConfig, what: str, call: Callable[[], T]) -> T:
    """One blocking batch-API call through the account's limiter, under the provider's retry policy."""
    return with_retries(
        functools.partial(limited_list_call, limiter_for(cfg), call),
        max_retries=cfg.max_retries,
        deadline=list_deadline(cfg.timeout_s),
        what=what,
    )


def sdk_body(kwargs: dict[str, object]) -> dict[str, object]:
    """A call's SDK keyword arguments as the JSON body a batch line carries (`extra_body` merged in;
    `timeout`, which is the client's business, left out)."""
    body = {k: v for k, v in kwargs.items() if k not in ("timeout", "extra_body", "extra_headers")}
    extra = kwargs.get("extra_body")
    if isinstance(extra, dict):
        body.update(extra)
    return body
