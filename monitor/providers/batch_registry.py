"""Which providers can batch, and the batch adapter of each (imported only when a run batches)."""

from __future__ import annotations

from monitor.core.config import ProviderConfig
from monitor.providers.base import Provider
from monitor.providers.batch import BATCH_TYPES, BatchAPI


def no_batch_reason(name: str, cfg: ProviderConfig) -> str | None:
    """Why `[providers.NAME]` cannot batch (its runs go request by request), or None when it can."""
    if cfg.type not in BATCH_TYPES:
        return f"provider '{name}' ({cfg.type}) has no batch API the monitor uses: it runs request by request"
    if not cfg.api_key():
        return f"provider '{name}' has no API key in the environment, which its batch API needs"
    return None


def batch_api(name: str, cfg: ProviderConfig, provider: Provider) -> BatchAPI:
    """The batch adapter of `provider` (its SDK imported now); check `no_batch_reason` first."""
    if cfg.type == "anthropic":
        from monitor.providers.batch_anthropic import AnthropicBatches

        return AnthropicBatches(name, cfg, provider)
    from monitor.providers.batch_openai import OpenAIBatches

    return OpenAIBatches(name, cfg, provider)
