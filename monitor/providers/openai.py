"""OpenAI and every OpenAI-compatible server: list models and answer chat through the official openai SDK."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import openai
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from monitor.core.config import ProviderConfig
from monitor.providers.base import BadResponse, ChatRequest, Completion, ModelInfo
from monitor.providers.http import decode_body, get_json, map_sdk_error
from monitor.providers.limits import limited_list_call, limiter_for
from monitor.providers.openai_models import (
    is_compatible_chat_model,
    is_openai_chat_model,
    is_reasoning_model,
    merge_aliases,
    model_info_from_item,
)
from monitor.providers.openai_post import sdk_post
from monitor.providers.openai_responses import (
    NO_AUTH_HEADERS,
    OpenAIResponses,
    completion_from_response,
    is_responses_only_model,
    responses_kwargs,
    says_responses_only,
)
from monitor.providers.openai_wire import chat_features, chat_tool_calls, split_reasoning
from monitor.providers.retry import list_deadline, with_retries
from monitor.providers.tls import tls_context

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "no-key"
"""The SDK client's key for keyless servers (Ollama, llama.cpp): the SDK insists on one, never sent."""

MAX_LIST_PAGES = 100

_SAMPLING_PARAMS = ("temperature", "top_p")
_ADJUSTABLE = 2
"""Rejections a chat call can learn from: sampling parameters, and max_tokens -> max_completion_tokens."""


class OpenAIChat:
    """Chat completions through the async openai SDK, shared by the OpenAI and Gemini adapters.

    Parameters are decided up front by rule; a 400 naming `temperature`/`top_p` (dropped) or
    `max_tokens` (renamed `max_completion_tokens`) is retried once without it and remembered for
    that model, so later calls send the accepted form straight away.

    Models that answer only on `/v1/responses` go there: by id when `responses_by_id` (the known
    families, see openai_responses), and once chat completions has said "only supported in
    v1/responses" for a model (the same request is retried there at once and the model remembered).
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        api_key: str | None,
        timeout_s: float,
        token_param: str,
        is_reasoning: Callable[[str], bool],
        responses_by_id: bool = False,
    ) -> None:
        self._provider = provider
        self._base_url = base_url
        self._key = api_key
        self._timeout_s = timeout_s
        self._token_param = token_param
        self._is_reasoning = is_reasoning
        self._client: openai.AsyncOpenAI | None = None
        self._no_sampling: set[str] = set()
        self._completion_tokens: set[str] = set()
        self._responses_by_id = responses_by_id
        self._responses = OpenAIResponses(provider=provider, api_key=api_key)
        self.apis: dict[str, str] = {}
        """model id -> "chat" | "responses", as learned (or hinted, see `OpenAIProvider.use_apis`)."""

    def uses_responses(self, model: str) -> bool:
        """Whether calls to `model` go to `/v1/responses`: learned or hinted first, else the id rule."""
        known = self.apis.get(model)
        if known is not None:
            return known == "responses"
        return self._responses_by_id and is_responses_only_model(model)

    def _async_client(self) -> openai.AsyncOpenAI:
        """The SDK client; with no key it sends no `Authorization` (see NO_AUTH_HEADERS)."""
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._key or NO_KEY,
                base_url=self._base_url,
                timeout=self._timeout_s,
                max_retries=0,
                http_client=openai.DefaultAsyncHttpxClient(verify=tls_context()),
            )
        return self._client

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The SDK keyword arguments for `request` under the rules known now for its model.

        Messages go as given; tools, tool_choice and response_format in their chat form (openai_wire);
        `reasoning_effort` top-level, or from `thinking_budget` by bands when no effort is given.
        """
        model = request.model
        no_sampling = self._is_reasoning(model) or model in self._no_sampling
        kwargs: dict[str, Any] = {"model": model, "messages": request.messages}
        if request.max_tokens is not None:
            param = "max_completion_tokens" if model in self._completion_tokens else self._token_param
            kwargs[param] = request.max_tokens
        if request.temperature is not None and not no_sampling:
            kwargs["temperature"] = request.temperature
        if request.seed is not None:
            kwargs["seed"] = request.seed
        kwargs.update(chat_features(request, provider=self._provider))
        effort, params = split_reasoning(request.extra, provider=self._provider)
        if effort is not None:
            kwargs["reasoning_effort"] = effort
        extra = {k: v for k, v in params.items() if not (no_sampling and k in _SAMPLING_PARAMS)}
        if extra:
            kwargs["extra_body"] = extra
        if request.timeout_s is not None:
            kwargs["timeout"] = request.timeout_s
        if not self._key:
            kwargs["extra_headers"] = NO_AUTH_HEADERS
        return kwargs

    def batch_call(self, request: ChatRequest) -> tuple[str, dict[str, Any]]:
        """The endpoint and SDK arguments a batch line carries for `request`: what a call would send now."""
        model = request.model
        if self.uses_responses(model):
            no_sampling = (
                self._is_reasoning(model)
                or is_responses_only_model(model)
                or model in self._responses.no_sampling
            )
            kwargs = responses_kwargs(
                request, no_sampling=no_sampling, keyless=not self._key, provider=self._provider
            )
            return "/v1/responses", kwargs
        return "/v1/chat/completions", self.request_kwargs(request)

    def batch_answer(self, endpoint: str, body: dict[str, Any]) -> Completion:
        """A batch line's answer body, built by the SDK's own lenient parser and read as a call's answer is
        (the latency of one item of a batch is not measured: 0 here, not stored)."""
        if endpoint == "/v1/responses":
            return completion_from_response(Response.construct(**body), 0.0, provider=self._provider)
        return self._completion(ChatCompletion.construct(**body), 0.0)

    def _learn(self, model: str, param: str | None, kwargs: dict[str, Any]) -> bool:
        """Adjust `kwargs` after a 400 naming `param`; True when there is something new to try."""
        extra = kwargs.get("extra_body") or {}
        if param in _SAMPLING_PARAMS and (param in kwargs or param in extra):
            self._no_sampling.add(model)
            kwargs.pop("temperature", None)
            for name in _SAMPLING_PARAMS:
                extra.pop(name, None)
            return True
        if param == "max_tokens" and "max_tokens" in kwargs:
            self._completion_tokens.add(model)
            kwargs["max_completion_tokens"] = kwargs.pop("max_tokens")
            return True
        return False

    async def complete(self, request: ChatRequest) -> Completion:
        client = self._async_client()
        if self.uses_responses(request.model):
            return await self._on_responses(client, request)
        kwargs = self.request_kwargs(request)
        secrets = (self._key,)
        # One first try plus at most one retry per parameter a 400 can name (each is learned once).
        for attempt in range(_ADJUSTABLE + 1):
            started = time.perf_counter()
            try:
                response = await sdk_post(client, "/chat/completions", kwargs, ChatCompletion)
            except openai.BadRequestError as exc:
                if attempt < _ADJUSTABLE and self._learn(request.model, exc.param, kwargs):
                    continue
                if says_responses_only(exc):
                    return await self._learned_responses(client, request)
                raise map_sdk_error(openai, exc, provider=self._provider, secrets=secrets) from None
            except (openai.OpenAIError, ValueError) as exc:
                if says_responses_only(exc):
                    return await self._learned_responses(client, request)
                raise map_sdk_error(openai, exc, provider=self._provider, secrets=secrets) from None
            latency_ms = (time.perf_counter() - started) * 1000.0
            self.apis.setdefault(request.model, "chat")
            return self._completion(response, latency_ms)
        raise BadResponse("the chat request kept being rejected", provider=self._provider)

    async def _learned_responses(self, client: openai.AsyncOpenAI, request: ChatRequest) -> Completion:
        """Chat completions said the model is Responses-only: remember that and ask there now."""
        self.apis[request.model] = "responses"
        return await self._on_responses(client, request)

    async def _on_responses(self, client: openai.AsyncOpenAI, request: ChatRequest) -> Completion:
        # The known Responses-only families all reason (no sampling params); learned ones may not.
        reasoning = self._is_reasoning(request.model) or is_responses_only_model(request.model)
        return await self._responses.complete(client, request, reasoning=reasoning)

    def _completion(self, response: Any, latency_ms: float) -> Completion:
        if not isinstance(response, ChatCompletion) or not response.choices:
            raise BadResponse("the chat response has no choices", provider=self._provider)
        choice = response.choices[0]
        message = choice.message
        usage = response.usage
        input_tokens = usage.prompt_tokens if usage else None
        output_tokens = usage.completion_tokens if usage else None
        if usage and usage.total_tokens is not None and input_tokens is not None:
            # Gemini's compatible endpoint leaves thinking tokens out of completion_tokens.
            output_tokens = max(output_tokens or 0, usage.total_tokens - input_tokens)
        cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
        reasoning = getattr(getattr(usage, "completion_tokens_details", None), "reasoning_tokens", None)
        if reasoning is None and usage and output_tokens and output_tokens > (usage.completion_tokens or 0):
            reasoning = output_tokens - (usage.completion_tokens or 0)  # Gemini's thinking, counted above
        refusal = getattr(message, "refusal", None) if message is not None else None
        tool_calls = chat_tool_calls(message)
        finish_reason = choice.finish_reason
        if tool_calls and finish_reason in (None, "stop"):
            finish_reason = "tool_calls"  # a forced tool (or Gemini) ends with "stop": still a tool call
        return Completion(
            text=(message.content if message is not None else None) or "",
            refusal=refusal if isinstance(refusal, str) and refusal else None,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached if isinstance(cached, int) else None,
            reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
            latency_ms=latency_ms,
            resolved_model=response.model or None,
            system_fingerprint=response.system_fingerprint,
            request_id=getattr(response, "_request_id", None),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class OpenAIProvider:
    """`type = "openai"` (the SDK lists) or `"openai-compatible"` (raw JSON lists, tolerant of quirks)."""

    def __init__(self, name: str, cfg: ProviderConfig, api_key: str | None) -> None:
        self.name = name
        self._cfg = cfg
        self._key = api_key
        self.compatible = cfg.type == "openai-compatible"
        self.base_url = (cfg.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._chat = OpenAIChat(
            provider=name,
            base_url=self.base_url,
            api_key=api_key,
            timeout_s=cfg.timeout_s,
            token_param="max_tokens" if self.compatible else "max_completion_tokens",
            is_reasoning=(lambda _model: False) if self.compatible else is_reasoning_model,
            responses_by_id=not self.compatible,
        )
        self._sync: openai.OpenAI | None = None
        self._session: Any = None

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The chat parameters this adapter would send now (for tests and `--debug`)."""
        return self._chat.request_kwargs(request)

    def use_apis(self, apis: dict[str, str]) -> None:
        """Known endpoints (`models.api`: model id -> "chat" | "responses"), trusted before the id rule."""
        self._chat.apis.update({m: api for m, api in apis.items() if api in ("chat", "responses")})

    def learned_apis(self) -> dict[str, str]:
        """Which API each model called so far answered on, for the caller to store in `models.api`."""
        return dict(self._chat.apis)

    def batch_call(self, request: ChatRequest) -> tuple[str, dict[str, Any]]:
        """The endpoint ("/v1/chat/completions" or "/v1/responses") and arguments of a batch line."""
        return self._chat.batch_call(request)

    def batch_answer(self, endpoint: str, body: dict[str, Any]) -> Completion:
        """A batch answer body parsed by the same code as a call's answer."""
        return self._chat.batch_answer(endpoint, body)

    def list_models(self) -> list[ModelInfo]:
        if self.compatible:
            return self._list_compatible()
        return with_retries(
            functools.partial(limited_list_call, limiter_for(self._cfg), self._list_sdk),
            max_retries=self._cfg.max_retries,
            deadline=list_deadline(self._cfg.timeout_s),
            what=f"{self.name}: list models",
        )

    def _list_sdk(self) -> list[ModelInfo]:
        if self._sync is None:
            self._sync = openai.OpenAI(
                api_key=self._key or NO_KEY,
                base_url=self.base_url,
                timeout=self._cfg.timeout_s,
                max_retries=0,
                http_client=openai.DefaultHttpxClient(verify=tls_context()),
            )
        started = time.time()
        try:
            raw = self._sync.models.with_raw_response.list(
                extra_headers=None if self._key else NO_AUTH_HEADERS
            )
            body = decode_body(raw.content)
        except (openai.OpenAIError, ValueError) as exc:
            raise map_sdk_error(openai, exc, provider=self.name, secrets=(self._key,)) from None
        # Plain JSON, not a pydantic model per entry: that parse cost more CPU than the whole diff.
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise BadResponse("the model list is not a JSON object with a 'data' array", provider=self.name)
        listed_at = (started, time.time())
        return [model_info_from_item(item, provider=self.name, listed_at=listed_at) for item in items]

    def _list_compatible(self) -> list[ModelInfo]:
        import requests

        if self._session is None:
            self._session = requests.Session()
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        deadline = list_deadline(self._cfg.timeout_s)
        url: str | None = f"{self.base_url}/models"
        seen_urls: set[str] = set()
        found: dict[str, ModelInfo] = {}
        while url is not None:
            if url in seen_urls or len(seen_urls) >= MAX_LIST_PAGES:
                raise BadResponse("the model list's 'links.next' does not advance", provider=self.name)
            seen_urls.add(url)
            page_url = url
            started = time.time()
            body = with_retries(
                functools.partial(
                    limited_list_call,
                    limiter_for(self._cfg),
                    functools.partial(
                        get_json,
                        self._session,
                        page_url,
                        headers=headers,
                        timeout_s=self._cfg.timeout_s,
                        provider=self.name,
                        secrets=(self._key,),
                    ),
                ),
                max_retries=self._cfg.max_retries,
                deadline=deadline,
                what=f"{self.name}: list models",
            )
            items, next_url = self._page_items(body)
            listed_at = (started, time.time())
            for item in items:
                info = model_info_from_item(item, provider=self.name, listed_at=listed_at)
                found.setdefault(info.id, info)
            url = urljoin(page_url, next_url) if next_url else None
        return merge_aliases(list(found.values()))

    def _page_items(self, body: Any) -> tuple[list[Any], str | None]:
        """Accept `{"data": [...]}`, `{"data": null}` and a bare array; `links.next` pages on."""
        if isinstance(body, list):
            return body, None
        if not isinstance(body, dict) or "data" not in body:
            raise BadResponse("the model list is not an array nor an object with 'data'", provider=self.name)
        data = body["data"]
        if data is None:
            data = []
        if not isinstance(data, list):
            raise BadResponse("the model list's 'data' is not an array", provider=self.name)
        links = body.get("links")
        next_url = links.get("next") if isinstance(links, dict) else None
        return data, next_url if isinstance(next_url, str) and next_url else None

    def is_chat_model(self, info: ModelInfo) -> bool:
        if self.compatible:
            return is_compatible_chat_model(info)
        return is_openai_chat_model(info.id) or is_responses_only_model(info.id)

    async def complete(self, request: ChatRequest) -> Completion:
        return await self._chat.complete(request)

    async def aclose(self) -> None:
        await self._chat.aclose()
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._session is not None:
            self._session.close()
            self._session = None
