"""OpenAI's Responses API (`/v1/responses`): which models need it, its request, its answer as a Completion."""

from __future__ import annotations

import re
import time
from typing import Any

import openai
from openai.types.responses import Response

from monitor.providers.base import BadResponse, ChatRequest, Completion
from monitor.providers.http import map_sdk_error
from monitor.providers.openai_post import sdk_post
from monitor.providers.openai_wire import (
    responses_features,
    responses_input,
    responses_tool_calls,
    split_reasoning,
)

NO_AUTH_HEADERS = {"Authorization": openai.Omit()}
"""Per-request headers that make the SDK send no `Authorization` at all (keyless servers)."""

RESPONSES_ONLY_TEXT = "only supported in v1/responses"
"""What chat completions says (404, sometimes 400) for a model that answers only on `/v1/responses`."""

_CHAT_LOOKING_ID = re.compile(r"^(?:ft:)?(?:o\d|gpt-)")
_PRO = re.compile(r"-pro(?:-|$)")
_CODEX = re.compile(r"(?:^|-)codex(?:-|$)")
_OTHER_MODALITY = ("embedding", "tts", "audio", "realtime", "image", "transcribe", "search")
_SAMPLING_PARAMS = ("temperature", "top_p")
_INCOMPLETE_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}
"""`incomplete_details.reason` -> the chat-completions finish reason with the same outcome."""


def is_responses_only_model(model_id: str) -> bool:
    """The known Responses-only families, by id: `-pro` models of the o-series and gpt line (o1-pro,
    o3-pro, gpt-5-pro, gpt-5.2-pro-2025-12-11...) and codex models (codex-mini-latest, gpt-5-codex,
    gpt-5.1-codex-max). Deep-research and computer-use models are Responses-only too but need tools."""
    if any(marker in model_id for marker in _OTHER_MODALITY):
        return False
    if _CODEX.search(model_id):
        return model_id.startswith("codex-") or bool(_CHAT_LOOKING_ID.match(model_id))
    return bool(_CHAT_LOOKING_ID.match(model_id) and _PRO.search(model_id))


def says_responses_only(exc: BaseException) -> bool:
    """Whether an SDK error is chat completions' "this model is only supported in v1/responses"."""
    return (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code in (400, 404)
        and RESPONSES_ONLY_TEXT in str(exc.message)
    )


def responses_kwargs(
    request: ChatRequest, *, no_sampling: bool, keyless: bool, provider: str = ""
) -> dict[str, Any]:
    """`responses.create` keyword arguments for a chat request.

    Messages go as `input` items (see openai_wire.responses_input: text and image parts, tool calls
    and their results); tools, tool_choice and the JSON output format as `tools`, `tool_choice` and
    `text.format`; `max_tokens` is `max_output_tokens`; `reasoning_effort` (or a `thinking_budget`
    by bands) is `reasoning.effort`; `seed` has no Responses equivalent and is not sent; `store` is
    off (nothing is kept on OpenAI's side). Sampling params are dropped when `no_sampling`
    (reasoning models reject them).
    """
    kwargs: dict[str, Any] = {
        "model": request.model,
        "input": responses_input(request.messages, provider=provider),
        "store": False,
    }
    kwargs.update(responses_features(request, provider=provider))
    if request.max_tokens is not None:
        kwargs["max_output_tokens"] = request.max_tokens
    if request.temperature is not None and not no_sampling:
        kwargs["temperature"] = request.temperature
    effort, params = split_reasoning(request.extra, provider=provider)
    if effort is not None:
        kwargs["reasoning"] = {"effort": effort}
    extra = {k: v for k, v in params.items() if not (no_sampling and k in _SAMPLING_PARAMS)}
    if "top_p" in extra:
        kwargs["top_p"] = extra.pop("top_p")
    if extra:
        kwargs["extra_body"] = extra
    if request.timeout_s is not None:
        kwargs["timeout"] = request.timeout_s
    if keyless:
        kwargs["extra_headers"] = NO_AUTH_HEADERS
    return kwargs


def _drop_sampling(kwargs: dict[str, Any], param: str | None) -> bool:
    """Remove the sampling params after a 400 naming one of them; True when something was removed."""
    extra = kwargs.get("extra_body") or {}
    if param not in _SAMPLING_PARAMS or not (param in kwargs or param in extra):
        return False
    for name in _SAMPLING_PARAMS:
        kwargs.pop(name, None)
        extra.pop(name, None)
    return True


class OpenAIResponses:
    """Calls on `/v1/responses` through the async SDK client the chat adapter owns.

    A 400 naming `temperature`/`top_p` is retried once without them and remembered for the model.
    """

    def __init__(self, *, provider: str, api_key: str | None) -> None:
        self._provider = provider
        self._key = api_key
        self.no_sampling: set[str] = set()

    async def complete(
        self, client: openai.AsyncOpenAI, request: ChatRequest, *, reasoning: bool
    ) -> Completion:
        """One Responses call, no retries beyond the one sampling-param fix; raises ProviderError."""
        no_sampling = reasoning or request.model in self.no_sampling
        kwargs = responses_kwargs(
            request, no_sampling=no_sampling, keyless=not self._key, provider=self._provider
        )
        secrets = (self._key,)
        for attempt in range(2):
            started = time.perf_counter()
            try:
                response = await sdk_post(client, "/responses", kwargs, Response)
            except openai.BadRequestError as exc:
                if attempt == 0 and _drop_sampling(kwargs, exc.param):
                    self.no_sampling.add(request.model)
                    continue
                raise map_sdk_error(openai, exc, provider=self._provider, secrets=secrets) from None
            except (openai.OpenAIError, ValueError) as exc:
                raise map_sdk_error(openai, exc, provider=self._provider, secrets=secrets) from None
            return completion_from_response(
                response, (time.perf_counter() - started) * 1000.0, provider=self._provider
            )
        raise BadResponse("the Responses request kept being rejected", provider=self._provider)


def completion_from_response(response: Any, latency_ms: float, *, provider: str) -> Completion:
    """A `Response` -> Completion: `output_text`, refusal parts, function calls, why it stopped, usage."""
    if not isinstance(response, Response):
        raise BadResponse("the Responses answer is not a response object", provider=provider)
    if response.status == "failed":
        error = response.error
        detail = f"{error.code}: {error.message}" if error is not None else "no error given"
        raise BadResponse(f"the response failed ({detail})", provider=provider)
    refusals = [
        part.refusal
        for item in response.output
        if item.type == "message"
        for part in item.content
        if part.type == "refusal" and part.refusal
    ]
    usage = response.usage
    return Completion(
        text=response.output_text,
        refusal="\n".join(refusals) if refusals else None,
        tool_calls=responses_tool_calls(response),
        finish_reason=_finish_reason(response),
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        cached_input_tokens=usage.input_tokens_details.cached_tokens if usage else None,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens if usage else None,
        latency_ms=latency_ms,
        resolved_model=response.model or None,
        request_id=getattr(response, "_request_id", None) or response.id,
    )


def _finish_reason(response: Response) -> str | None:
    """The chat-completions finish reason a Response's ending matches (see base.OUTCOMES)."""
    if response.status == "incomplete":
        reason = response.incomplete_details.reason if response.incomplete_details else None
        return _INCOMPLETE_FINISH.get(reason or "", reason)
    if any(item.type == "function_call" for item in response.output):
        return "tool_calls"
    if response.status in (None, "completed"):
        return "stop"
    return response.status
