"""The simulated models: their description (SimModel), the default line-up, and which are listed when."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PROVIDERS = ("openai", "anthropic", "gemini")


@dataclass
class SimModel:
    """One simulated model and how it behaves; see docs/simulator.md for every field."""

    id: str
    provider: str = "openai"
    skill: float = 0.7
    latency_ms: float = 40.0
    latency_jitter_ms: float = 10.0
    display_name: str | None = None
    created: datetime | None = None
    reasoning: bool = False
    chat: bool = True
    responses_only: bool = False
    system_fingerprint: str | None = None
    release_after_polls: int | None = None
    remove_after_polls: int | None = None
    release_at: datetime | None = None
    remove_at: datetime | None = None
    deterministic: bool = True
    lifecycle: str = "active"
    shutdown_date: str | None = None
    snapshot: str | None = None
    owned_by: str | None = None
    aliases: list[str] | None = None
    created_now: bool = False
    system_prompt: bool = True
    tools: bool = True
    vision: bool = True
    structured_output: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {self.provider!r}")
        if not 0.0 <= self.skill <= 1.0:
            raise ValueError(f"skill must be between 0 and 1, not {self.skill}")
        if self.lifecycle not in ("active", "deprecated", "retired"):
            raise ValueError(f"lifecycle must be active, deprecated or retired, not {self.lifecycle!r}")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must be >= 0")
        if self.display_name is None:
            self.display_name = self.id.replace("-", " ").title()
        if self.created is None:
            self.created = datetime(2026, 1, 1, tzinfo=UTC)
        elif self.created.tzinfo is None:
            self.created = self.created.replace(tzinfo=UTC)
        if self.system_fingerprint is None:
            self.system_fingerprint = "fp_" + hashlib.sha256(self.id.encode()).hexdigest()[:10]
        if self.snapshot is None:
            self.snapshot = self.id if self.provider != "openai" else f"{self.id}-{self.created:%Y-%m-%d}"
        if self.owned_by is None:
            self.owned_by = {"openai": "system", "anthropic": "anthropic", "gemini": "google"}[self.provider]

    @property
    def created_unix(self) -> int:
        assert self.created is not None
        return int(self.created.timestamp())


def default_models() -> list[SimModel]:
    """A small, varied line-up per provider, fast enough for tests (tens of milliseconds per answer)."""

    def day(y: int, m: int, d: int) -> datetime:
        return datetime(y, m, d, tzinfo=UTC)

    return [
        SimModel("gpt-sim-base", "openai", skill=0.8, latency_ms=40, created=day(2026, 1, 1)),
        SimModel("gpt-sim-mini", "openai", skill=0.55, latency_ms=20, created=day(2025, 6, 1)),
        SimModel("o9-sim", "openai", skill=0.92, latency_ms=80, reasoning=True, created=day(2026, 3, 1)),
        SimModel("text-embedding-sim-3", "openai", chat=False, created=day(2025, 1, 1)),
        SimModel("tts-sim-1", "openai", chat=False, created=day(2025, 1, 1)),
        SimModel("whisper-sim-1", "openai", chat=False, created=day(2025, 1, 1)),
        SimModel("dall-e-sim-3", "openai", chat=False, created=day(2025, 1, 1)),
        SimModel(
            "claude-sim-sonnet-20260115",
            "anthropic",
            skill=0.85,
            latency_ms=50,
            display_name="Claude Sim Sonnet",
            created=day(2026, 1, 15),
        ),
        SimModel(
            "claude-sim-haiku-20251001",
            "anthropic",
            skill=0.6,
            latency_ms=25,
            display_name="Claude Sim Haiku",
            created=day(2025, 10, 1),
        ),
        SimModel(
            "claude-sim-legacy-20240301",
            "anthropic",
            skill=0.45,
            latency_ms=30,
            display_name="Claude Sim Legacy",
            created=day(2024, 3, 1),
            lifecycle="deprecated",
            shutdown_date="2027-03-01",
        ),
        SimModel("gemini-sim-flash", "gemini", skill=0.7, latency_ms=30, display_name="Gemini Sim Flash"),
        SimModel("gemini-sim-pro", "gemini", skill=0.88, latency_ms=60, display_name="Gemini Sim Pro"),
        SimModel("text-embedding-sim-004", "gemini", chat=False, display_name="Text Embedding Sim 004"),
        SimModel("imagen-sim-3", "gemini", chat=False, display_name="Imagen Sim 3"),
    ]


@dataclass
class Catalog:
    """Which models exist right now: counts list polls per provider and applies releases and removals."""

    models: list[SimModel]
    polls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PROVIDERS, 0))
    _released: set[str] = field(default_factory=set)
    _removed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for model in self.models:
            key = (model.provider, model.id)
            if key in seen:
                raise ValueError(f"duplicate model {model.id!r} for provider {model.provider}")
            seen.add(key)

    def count_poll(self, provider: str) -> None:
        """One complete list request (its first page) of `provider`."""
        with self._lock:
            self.polls[provider] += 1

    def release(self, model_id: str) -> None:
        with self._lock:
            self._find(model_id)
            self._released.add(model_id)
            self._removed.discard(model_id)

    def remove(self, model_id: str) -> None:
        with self._lock:
            self._find(model_id)
            self._removed.add(model_id)

    def _find(self, model_id: str) -> SimModel:
        for model in self.models:
            if model.id == model_id:
                return model
        raise KeyError(f"no simulated model {model_id!r}")

    def is_live(self, model: SimModel, now: datetime | None = None) -> bool:
        """Released and not removed, as of the provider's current poll count and the clock."""
        if model.id in self._removed:
            return False
        now = now or datetime.now(UTC)
        polls = self.polls[model.provider]
        if model.remove_after_polls is not None and polls > model.remove_after_polls:
            return False
        if model.remove_at is not None and now >= model.remove_at:
            return False
        if model.id in self._released:
            return True
        if model.release_after_polls is not None and polls <= model.release_after_polls:
            return False
        return not (model.release_at is not None and now < model.release_at)

    def listed(self, provider: str) -> list[SimModel]:
        """The provider's live models, in declaration order."""
        now = datetime.now(UTC)
        return [m for m in self.models if m.provider == provider and self.is_live(m, now)]

    def lookup(self, provider: str, model_id: str) -> SimModel | None:
        """A live model of `provider` by id, or None (the caller answers 404)."""
        for model in self.models:
            if model.provider == provider and model.id == model_id:
                return model if self.is_live(model) else None
        return None
