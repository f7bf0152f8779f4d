"""OpenAI and OpenAI-compatible model lists: the chat and reasoning rules, entry parsing, alias merging."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from monitor.providers.base import BadResponse, ModelInfo
from monitor.providers.http import parse_created

CREATED_NOW_S = 5.0
"""A `created` within this many seconds of the list request is the server's clock (llama.cpp), not a date."""

# providers.md §1.1: chat ids start like this...
_OPENAI_CHAT_ID = re.compile(r"^(gpt-|chatgpt-|o\d|ft:(gpt-|o\d))")
# ...and do not contain any of these (other modalities, Responses-only, legacy completions).
_OPENAI_NOT_CHAT = (
    "embedding",
    "tts",
    "transcribe",
    "whisper",
    "realtime",
    "audio",
    "image",
    "dall-e",
    "sora",
    "moderation",
    "search",
    "instruct",
    "davinci",
    "babbage",
    "computer-use",
    "deep-research",
    "codex",
)
# OpenAI-compatible servers: obvious non-chat ids (embeddings, speech, rerankers, safety classifiers).
_COMPATIBLE_NOT_CHAT = (
    "embed",
    "whisper",
    "rerank",
    "moderation",
    "llamaguard",
    "shieldgemma",
    "transcribe",
    "orpheus",
    "kokoro",
    "dall-e",
    "gpt-image",
    "sora",
    "imagen",
    "stable-diffusion",
    "sdxl",
    "flux",
)
_COMPATIBLE_TTS = re.compile(r"(^|[-_/.:])tts($|[-_/.:\d])")
# Word-like markers: guard models (not gpt-oss-safeguard), embedding families without "embed"...
_COMPATIBLE_NOT_CHAT_WORDS = re.compile(
    r"(^|[-_/.:])(guard|bge|gte|e5|minilm|all-minilm|all-mpnet|paraphrase)($|[-_/.:])"
)
# ...and base (pretrained) checkpoints named by size or version: qwen2.5-7b-base, deepseek-v3-base.
_COMPATIBLE_BASE_MODEL = re.compile(r"(\d+(\.\d+)?[bm]|v\d+(\.\d+)?)-(base|pt)($|[-_/.:])")
_COMPATIBLE_NOT_CHAT_TYPES = {
    "embedding",
    "image",
    "moderation",
    "rerank",
    "audio",
    "transcribe",
    "language",
    "code",
}
"""Together's `type`s other than chat (`language` and `code` are completion-only base models)."""
_REASONING_ID = re.compile(r"^(?:ft:)?(?:o\d|gpt-(\d+))")
_CHAT_ONLY_SEARCH = "-search-preview"
"""gpt-4o(-mini)-search-preview: search models that answer on chat completions only."""


def is_reasoning_model(model_id: str) -> bool:
    """o-series (`o1`, `o3-mini`...) and `gpt-N` with N >= 5, but not `*-chat-latest`: no sampling params."""
    match = _REASONING_ID.match(model_id)
    if not match or model_id.endswith("-chat-latest"):
        return False
    major = match.group(1)
    return major is None or int(major) >= 5


def is_openai_chat_model(model_id: str) -> bool:
    """providers.md §1.1 steps 1-2: chat-looking id, no other-modality marker, not a `-pro` model."""
    if not _OPENAI_CHAT_ID.match(model_id):
        return False
    if any(marker in model_id.replace(_CHAT_ONLY_SEARCH, "") for marker in _OPENAI_NOT_CHAT):
        return False
    return not (model_id.endswith("-pro") or "-pro-" in model_id)


def is_compatible_chat_model(info: ModelInfo) -> bool:
    """Drop obvious embedding/speech/rerank/moderation/guard/base models; honour `type` and capabilities."""
    lowered = info.id.lower()
    if any(marker in lowered for marker in _COMPATIBLE_NOT_CHAT) or _COMPATIBLE_TTS.search(lowered):
        return False
    if _COMPATIBLE_NOT_CHAT_WORDS.search(lowered) or _COMPATIBLE_BASE_MODEL.search(lowered):
        return False
    kind = info.raw.get("type")
    if isinstance(kind, str) and kind.lower() in _COMPATIBLE_NOT_CHAT_TYPES:
        return False
    capabilities = info.raw.get("capabilities")
    return not (isinstance(capabilities, dict) and capabilities.get("completion_chat") is False)


def model_info_from_item(
    item: Any, *, provider: str, listed_at: tuple[float, float] | None = None
) -> ModelInfo:
    """One `/models` entry (a dict with a string `id`) -> ModelInfo; anything else is a BadResponse.

    `listed_at` is the (start, end) Unix time of the list request: a `created` inside it (padded by
    CREATED_NOW_S) is the server's clock, as llama.cpp sends, so it is dropped from `created` and raw.
    """
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise BadResponse("a model list entry has no string 'id'", provider=provider)
    name = item.get("display_name") or item.get("name")
    owner = item.get("owned_by")
    created = parse_created(item.get("created"))
    if created is not None and listed_at is not None and _is_now(created.timestamp(), listed_at):
        created = None
        item = {k: v for k, v in item.items() if k != "created"}
    aliases = item.get("aliases")
    return ModelInfo(
        id=item["id"],
        display_name=name if isinstance(name, str) else None,
        created=created,
        owned_by=owner if isinstance(owner, str) else None,
        raw=item,
        aliases=tuple(
            sorted({a for a in aliases if isinstance(a, str) and a and a != item["id"]})
            if isinstance(aliases, list)
            else ()
        ),
    )


def _is_now(created: float, listed_at: tuple[float, float]) -> bool:
    return listed_at[0] - CREATED_NOW_S <= created <= listed_at[1] + CREATED_NOW_S


def merge_aliases(infos: list[ModelInfo]) -> list[ModelInfo]:
    """One entry per model: entries naming each other in `aliases` (Mistral lists `x-latest` and its
    dated id separately) become the entry whose id is its own `name` (else the first listed), and the
    other ids join its aliases."""
    by_id = {info.id: info for info in infos}
    group_of: dict[str, int] = {}
    groups: list[list[ModelInfo]] = []
    for info in infos:
        linked = {group_of[i] for i in (info.id, *info.aliases) if i in group_of}
        if linked:
            target = min(linked)
            for other in sorted(linked - {target}):
                groups[target].extend(groups[other])
                groups[other] = []
                for name, index in list(group_of.items()):
                    if index == other:
                        group_of[name] = target
        else:
            target = len(groups)
            groups.append([])
        groups[target].append(info)
        for name in (info.id, *info.aliases):
            if name in by_id:
                group_of[name] = target
    merged = []
    for group in groups:
        if not group:
            continue
        if len(group) == 1:
            merged.append(group[0])
            continue
        main = next((g for g in group if g.raw.get("name") == g.id), group[0])
        names = {name for g in group for name in (g.id, *g.aliases)} - {main.id}
        merged.append(dataclasses.replace(main, aliases=tuple(sorted(names))))
    return merged
