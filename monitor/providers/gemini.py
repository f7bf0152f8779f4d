"""Google Gemini: the native models list (pageToken) through requests, chat through its OpenAI-compatible API.

`base_url` is the API root (default https://generativelanguage.googleapis.com): models are listed at
`<root>/v1beta/models` and chat goes to `<root>/v1beta/openai/`. A base_url that already ends in
`/v1beta/openai`, `/v1beta` or `/v1` is accepted and trimmed back to the root.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from monitor.core.config import ProviderConfig
from monitor.providers.base import BadResponse, ChatRequest, Completion, ModelInfo
from monitor.providers.http import get_json
from monitor.providers.limits import limited_list_call, limiter_for
from monitor.providers.openai import OpenAIChat
from monitor.providers.retry import list_deadline, with_retries

DEFAULT_ROOT = "https://generativelanguage.googleapis.com"
PAGE_SIZE = 1000
MAX_LIST_PAGES = 1000
# providers.md §3.1: these list generateContent but do not answer plain text.
NOT_CHAT_MARKERS = (
    "embedding",
    "imagen",
    "veo",
    "tts",
    "image",
    "native-audio",
    "live",
    "aqa",
    "computer-use",
    "deep-research",
)
NO_SYSTEM_PREFIX = "gemma-"
"""Gemma models answer 400 "Developer instruction is not enabled" to a system prompt."""


def api_root(base_url: str | None) -> str:
    """The API root for a configured base_url (see the module docstring)."""
    root = (base_url or DEFAULT_ROOT).rstrip("/")
    for suffix in ("/v1beta/openai", "/v1beta", "/v1"):
        root = root.removesuffix(suffix)
    return root


def fold_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The system turns prepended to the first user turn (for models that reject system prompts).

    System content may be a string or text parts; a user turn's list content gets the system text
    as a leading text part, so its images stay where they were.
    """
    system = [_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
    rest = [dict(m) for m in messages if m.get("role") not in ("system", "developer")]
    if not system:
        return rest
    prompt = "\n\n".join(system)
    for message in rest:
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                message["content"] = [{"type": "text", "text": prompt}, *content]
            else:
                message["content"] = f"{prompt}\n\n{content or ''}"
            return rest
    return [{"role": "user", "content": prompt}, *rest]


def _text(content: Any) -> str:
    """A turn's text: string content as is, the text parts of list content joined."""
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return content or ""


def thinking_params(extra: dict[str, Any]) -> dict[str, Any]:
    """`thinking_budget` as Gemini's `thinking_config` (its OpenAI-compatible `extra_body.google` field).

    The compatible endpoint takes Gemini fields in a top-level `extra_body` JSON object, so it sits
    inside the SDK's own `extra_body`. Gemini rejects a budget together with `reasoning_effort`
    (they overlap): a given effort wins, as on OpenAI, and the budget is not sent.
    """
    if "thinking_budget" not in extra:
        return extra
    rest = {k: v for k, v in extra.items() if k != "thinking_budget"}
    if rest.get("reasoning_effort") is None:
        budget = extra["thinking_budget"]
        rest["extra_body"] = {"google": {"thinking_config": {"thinking_budget": budget}}}
    return rest


def is_gemini_chat_model(info: ModelInfo) -> bool:
    """`generateContent` is supported and the id names no non-text family."""
    methods = info.raw.get("supportedGenerationMethods") or []
    if "generateContent" not in methods:
        return False
    lowered = info.id.lower()
    return not any(marker in lowered for marker in NOT_CHAT_MARKERS)


class GeminiProvider:
    """`type = "gemini"`; the key goes in `x-goog-api-key` (list) and as a Bearer token (chat)."""

    def __init__(
        self, name: str, cfg: ProviderConfig, api_key: str | None, *, page_size: int = PAGE_SIZE
    ) -> None:
        self.name = name
        self._cfg = cfg
        self._key = api_key
        self.page_size = page_size
        self.root = api_root(cfg.base_url)
        self.list_url = f"{self.root}/v1beta/models"
        self.chat_url = f"{self.root}/v1beta/openai/"
        self._chat = OpenAIChat(
            provider=name,
            base_url=self.chat_url,
            api_key=api_key,
            timeout_s=cfg.timeout_s,
            token_param="max_tokens",
            is_reasoning=lambda _model: False,
        )
        self._session: Any = None

    def list_models(self) -> list[ModelInfo]:
        """Every page; a failure on any page fails the whole list (a partial list is never returned)."""
        import requests

        if self._session is None:
            self._session = requests.Session()
        headers = {"x-goog-api-key": self._key} if self._key else {}
        deadline = list_deadline(self._cfg.timeout_s)
        found: dict[str, ModelInfo] = {}
        tokens: set[str] = set()
        token: str | None = None
        for _ in range(MAX_LIST_PAGES):
            params: dict[str, Any] = {"pageSize": self.page_size}
            if token:
                params["pageToken"] = token
            body = with_retries(
                functools.partial(
                    limited_list_call,
                    limiter_for(self._cfg),
                    functools.partial(
                        get_json,
                        self._session,
                        self.list_url,
                        params=params,
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
            if not isinstance(body, dict):
                raise BadResponse("the model list is not a JSON object", provider=self.name)
            if "models" not in body:
                # A real list always has models; `{}` is a proxy or outage answer, not an empty list.
                raise BadResponse("the model list has no 'models' array", provider=self.name)
            models = body.get("models") or []
            if not isinstance(models, list):
                raise BadResponse("the model list's 'models' is not an array", provider=self.name)
            for item in models:
                info = self._info(item)
                found.setdefault(info.id, info)
            token = body.get("nextPageToken") or None
            if token is None:
                return list(found.values())
            if not isinstance(token, str) or token in tokens:
                raise BadResponse("nextPageToken does not advance", provider=self.name)
            tokens.add(token)
        raise BadResponse(f"the model list has more than {MAX_LIST_PAGES} pages", provider=self.name)

    def _info(self, item: Any) -> ModelInfo:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise BadResponse("a model list entry has no string 'name'", provider=self.name)
        name = item.get("displayName")
        return ModelInfo(
            id=item["name"].removeprefix("models/"),
            display_name=name if isinstance(name, str) else None,
            created=None,
            owned_by="google",
            raw=item,
        )

    def is_chat_model(self, info: ModelInfo) -> bool:
        return is_gemini_chat_model(info)

    def _prepared(self, request: ChatRequest) -> ChatRequest:
        """The request in Gemini's form: thinking budget as `thinking_config`, system folded for Gemma."""
        request = dataclasses.replace(request, extra=thinking_params(request.extra))
        if request.model.startswith(NO_SYSTEM_PREFIX):
            return dataclasses.replace(request, messages=fold_system(request.messages))
        return request

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The chat parameters this adapter would send now."""
        return self._chat.request_kwargs(self._prepared(request))

    async def complete(self, request: ChatRequest) -> Completion:
        return await self._chat.complete(self._prepared(request))

    async def aclose(self) -> None:
        await self._chat.aclose()
        if self._session is not None:
            self._session.close()
            self._session = None
