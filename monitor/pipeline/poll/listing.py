"""List one provider's models and keep the chat models discovery tracks (nothing is written)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.core.errors import MonitorError
from monitor.store.tables import utcnow

if TYPE_CHECKING:
    from monitor.core.config import ProviderConfig
    from monitor.providers.base import ModelInfo, Provider

# Every poll module logs under this one name (the CLI mutes it; the table shows the failures).
log = logging.getLogger("monitor.pipeline.poll")


@dataclass
class Listing:
    """One provider's list call: the chat models kept, every listed id, or the error."""

    name: str
    started_at: datetime
    finished_at: datetime
    seconds: float
    kept: list[ModelInfo] = field(default_factory=list)
    listed_ids: set[str] = field(default_factory=set)
    error: str | None = None
    error_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def wanted(provider: Provider, cfg: ProviderConfig, info: ModelInfo) -> bool:
    """`include`/`exclude` globs decide when they speak (exclude wins); else the provider's default rule."""
    decided = cfg.keeps(info.id)
    return provider.is_chat_model(info) if decided is None else decided


def select_chat_models(
    provider: Provider, cfg: ProviderConfig, infos: Iterable[ModelInfo]
) -> list[ModelInfo]:
    """The models discovery tracks for this provider (first entry wins for a repeated id)."""
    kept: dict[str, ModelInfo] = {}
    for info in infos:
        if info.id not in kept and wanted(provider, cfg, info):
            kept[info.id] = info
    return list(kept.values())


def default_factory(name: str, cfg: ProviderConfig) -> Provider:
    """The configured provider client for `name` (tests pass their own factory instead)."""
    from monitor.providers.registry import get_provider

    return get_provider(name, cfg)


def list_provider(
    name: str, cfg: ProviderConfig, factory: Callable[[str, ProviderConfig], Provider]
) -> Listing:
    """List and filter one provider; every failure (config, provider, bug) becomes `Listing.error`."""
    started_at = utcnow()
    clock = time.perf_counter()
    kept: list[ModelInfo] = []
    listed_ids: set[str] = set()
    error: str | None = None
    kind: str | None = None
    try:
        provider = factory(name, cfg)
        try:
            infos = provider.list_models()
            listed_ids = {info.id for info in infos}
            kept = select_chat_models(provider, cfg, infos)
        finally:
            asyncio.run(provider.aclose())
    except MonitorError as exc:
        error, kind = str(exc), getattr(exc, "kind", "config")
    except Exception as exc:
        from monitor.providers.http import redact

        log.exception("%s: listing models failed unexpectedly", name)
        error, kind = redact(f"{type(exc).__name__}: {exc}", (cfg.api_key(),)), "internal"
    return Listing(
        name=name,
        started_at=started_at,
        finished_at=utcnow(),
        seconds=time.perf_counter() - clock,
        kept=kept,
        listed_ids=listed_ids,
        error=error,
        error_kind=kind,
    )
