"""The one small interface every provider module implements, and the typed errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from monitor.core.errors import MonitorError


@dataclass(frozen=True)
class ModelInfo:
    """One entry of a provider's model list, normalised."""

    id: str
    display_name: str | None = None
    created: datetime | None = None
    owned_by: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    """Other ids the provider lists for this same model (Mistral's `aliases`, llama.cpp's `--alias`)."""


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call, in the OpenAI JSON-Schema form every adapter translates from."""

    name: str
    description: str
    parameters: dict[str, Any]
    """A JSON Schema for the arguments (an object schema)."""
    strict: bool = False


@dataclass(frozen=True)
class ToolCall:
    """One function call the model made: its id (to answer it), the function and the raw JSON arguments."""

    id: str
    name: str
    arguments: str
    """The arguments exactly as the model sent them (JSON text, possibly invalid)."""

    def as_dict(self) -> dict[str, str]:
        """The stored form (results.tool_calls, reports)."""
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


TOOL_CHOICES = ("auto", "required", "none")
"""Neutral `tool_choice` values; any other value is the name of the one tool the model must call."""


@dataclass(frozen=True)
class ChatRequest:
    """A provider-neutral chat call: messages, tools and output format, plus the suite's sampling params.

    `messages` are in the OpenAI chat form, which every adapter translates from: `content` is a string
    or a list of parts (`{"type": "text", "text"}`, `{"type": "image_url", "image_url": {"url"}}`, the
    url an https URL or a base64 data URL); an assistant turn may carry `tool_calls` (`{"id", "type":
    "function", "function": {"name", "arguments"}}`) and a `tool` turn answers one by `tool_call_id`.
    `response_format` is `{"type": "json_object"}` or `{"type": "json_schema", "name", "schema",
    "strict"}`. `extra` holds the other params (`top_p`, `stop`, `reasoning_effort`, `thinking_budget`).
    """

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    timeout_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None
    """One of TOOL_CHOICES, or a tool's name to force that tool; None leaves it to the provider (auto)."""
    response_format: dict[str, Any] | None = None


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
    cached_input_tokens: int | None = None
    """Of input_tokens, how many were read from the provider's prompt cache (when it says)."""
    cache_write_tokens: int | None = None
    """Of input_tokens, how many were written to the prompt cache (Anthropic's cache creation)."""
    reasoning_tokens: int | None = None
    """Of output_tokens, how many the model spent reasoning (when the provider says)."""
    refusal: str | None = None
    """The model's refusal text (OpenAI `message.refusal`), kept apart from `text`; None when it answered."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The function calls the model made, in order (text may come with them)."""

    @property
    def outcome(self) -> str:
        """How the call ended, the same for every provider: one of OUTCOMES (see `normal_finish`)."""
        return "refusal" if self.refusal is not None else normal_finish(self.finish_reason)


OUTCOMES = ("stop", "length", "truncated", "refusal", "content_filter", "tool_calls", "other")
"""Normalised ends of a chat call (docs/providers.md "Outcomes")."""

_FINISH_OUTCOMES = {
    # OpenAI and every OpenAI-compatible server (Gemini's compatible endpoint included)
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    # Anthropic Messages (anthropic.types.StopReason)
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    "pause_turn": "truncated",
    "model_context_window_exceeded": "truncated",
    # Gemini native finishReason
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def normal_finish(finish_reason: str | None) -> str:
    """A raw finish/stop reason -> its outcome: none is "stop" (servers may omit it), unknown "other"."""
    if finish_reason is None:
        return "stop"
    return _FINISH_OUTCOMES.get(finish_reason, "other")


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


@runtime_checkable
class LearnsEndpoints(Protocol):
    """An adapter that picks an endpoint per model (OpenAI: chat or Responses) and remembers the answer."""

    def use_apis(self, apis: dict[str, str]) -> None:
        """Known endpoints (model id -> "chat" | "responses"), trusted before any id rule."""
        ...

    def learned_apis(self) -> dict[str, str]:
        """The endpoint each model called so far answered on, for the caller to store."""
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
    """5xx, 503 and 529: the provider is unwell; retry with backoff.

    `loading` is True for a server that is up but still loading its model (llama.cpp's 503
    "Loading model"): it will answer once loaded, so callers wait for it rather than give up.
    """

    kind = "overloaded"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        loading: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, status=status, retry_after=retry_after)
        self.loading = loading


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
