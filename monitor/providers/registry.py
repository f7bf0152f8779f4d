"""Provider type -> adapter (one lazy factory per type, SDKs load on use); whether a model can be called."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.core.errors import ConfigError

if TYPE_CHECKING:
    from monitor.core.config import Config, ProviderConfig
    from monitor.providers.base import Provider

Factory = Callable[[str, "ProviderConfig", "str | None"], "Provider"]


def _openai(name: str, cfg: ProviderConfig, api_key: str | None) -> Provider:
    from monitor.providers.openai import OpenAIProvider

    return OpenAIProvider(name, cfg, api_key)


def _anthropic(name: str, cfg: ProviderConfig, api_key: str | None) -> Provider:
    from monitor.providers.anthropic import AnthropicProvider

    return AnthropicProvider(name, cfg, api_key)


def _gemini(name: str, cfg: ProviderConfig, api_key: str | None) -> Provider:
    from monitor.providers.gemini import GeminiProvider

    return GeminiProvider(name, cfg, api_key)


FACTORIES: dict[str, tuple[Factory, str]] = {
    "openai": (_openai, "openai"),
    "openai-compatible": (_openai, "openai"),
    "anthropic": (_anthropic, "anthropic"),
    "gemini": (_gemini, "openai"),
}
"""type -> (factory, the pip package it needs)."""


def provider_api_key(name: str, cfg: ProviderConfig) -> str | None:
    """The key from `api_key_env`; ConfigError naming the variable (never a value) when it is unset.

    Only `openai-compatible` may have no `api_key_env` (Ollama, a local vLLM): then there is no key.
    """
    if cfg.api_key_env is None:
        if cfg.type == "openai-compatible":
            return None
        raise ConfigError(f"[providers.{name}] needs api_key_env: the environment variable holding the key")
    key = os.environ.get(cfg.api_key_env)
    if not key:
        raise ConfigError(
            f"[providers.{name}] reads its API key from ${cfg.api_key_env}, "
            "which is not set in the environment"
        )
    return key


def get_provider(name: str, cfg: ProviderConfig) -> Provider:
    """The adapter for `[providers.NAME]`, its SDK imported now; ConfigError for a missing key or SDK."""
    if cfg.type not in FACTORIES:
        raise ConfigError(f"[providers.{name}] type {cfg.type!r} is not one of {', '.join(FACTORIES)}")
    if cfg.type == "openai-compatible" and not cfg.base_url:
        raise ConfigError(f"[providers.{name}] is openai-compatible and needs base_url (its /v1 URL)")
    api_key = provider_api_key(name, cfg)
    factory, package = FACTORIES[cfg.type]
    try:
        return factory(name, cfg, api_key)
    except ImportError as exc:
        raise ConfigError(
            f"[providers.{name}] type {cfg.type!r} needs the '{package}' package "
            f"({exc}); pip install {package}"
        ) from None


def cannot_call(config: Config, model_key: str) -> str | None:
    """Why `model_key` cannot be called with this config and environment (unknown provider, no key), or None.

    Checked without importing an SDK, so planning and `status` can ask it of every baseline and judge.
    """
    name, _, _model = model_key.partition(":")
    cfg = config.providers.get(name)
    if cfg is None:
        configured = ", ".join(sorted(config.providers)) or "none"
        return f"{model_key}: provider '{name}' is not in [providers] (configured: {configured})"
    try:
        provider_api_key(name, cfg)
    except ConfigError as exc:
        return f"{model_key}: {exc}"
    return None


def uncallable_models(config: Config) -> list[str]:
    """One line per configured baseline or judge model that cannot be called (see `cannot_call`)."""
    baselines = [*config.baseline.default, *(m for ms in config.baseline.suites.values() for m in ms)]
    judges = [config.judge.model] if config.judge.model else []
    keys = dict.fromkeys([*baselines, *judges])
    return [reason for key in keys if (reason := cannot_call(config, key)) is not None]
