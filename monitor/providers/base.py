"""The one small interface every provider module implements, and the typed errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from monitor.core.errors import MonitorError


@dataclass(frozen=True)
class ModelInfo:
    """One entry of a provider's model list, normalised."""

    id: str
    display_name: str | None = None
    created: datetime | None = None
    owned_by: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatRequest:
    """A provider-neutral chat call: messages plus the suite's sampling params."""

    model: str
    messages: list[dict[str, str]]
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    timeout_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    """What a model answered, with the usage and identity facts the runner stores."""

    text: str
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    resolved_model: str | None = None
    system_fingerprint: str | None = None
    request_id: str | None = None


class Provider(Protocol):
    """A configured provider: lists its models and answers chat requests."""

    name: str

    def list_models(self) -> list[ModelInfo]:
        """Every model the provider lists (all pages), unfiltered; raises ProviderError."""
        ...

    def is_chat_model(self, info: ModelInfo) -> bool:
        """The provider's documented default rule for chat-capable models."""
        ...

    async def complete(self, request: ChatRequest) -> Completion:
        """One chat call, no retries (the runner owns retrying); raises ProviderError."""
        ...

    async def aclose(self) -> None:
        """Release HTTP connections."""
        ...


class ProviderError(MonitorError):
    """A provider call failed. `kind` is stable and stored; the message never holds a key."""

    kind = "provider_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        prefix = f"{provider}: " if provider else ""
        super().__init__(f"{prefix}{message}")


class AuthError(ProviderError):
    kind = "auth"


class ModelNotFound(ProviderError):
    kind = "not_found"


class BadRequest(ProviderError):
    kind = "bad_request"


class QuotaExhausted(ProviderError):
    """Billing or credit exhausted: retrying cannot help."""

    kind = "quota"


class RateLimited(ProviderError):
    kind = "rate_limited"
    retryable = True


class Overloaded(ProviderError):
    """5xx, 503 and 529: the provider is unwell; retry with backoff."""

    kind = "overloaded"
    retryable = True


class ProviderTimeout(ProviderError):
    kind = "timeout"
    retryable = True


class ConnectionFailed(ProviderError):
    kind = "connection"
    retryable = True


class BadResponse(ProviderError):
    """The provider answered something we cannot parse (malformed or truncated JSON)."""

    kind = "bad_response"
    retryable = True
