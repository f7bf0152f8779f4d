"""The genai-prices catalogue, [pricing]'s default: a model's rates, a provider's dearest, the snapshot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import Provider

# The catalogue's provider for each of our provider types when no base_url says otherwise.
DEFAULT_PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}
# Whose models bound the price of a server the catalogue does not know (an unknown openai-compatible URL).
FALLBACK_BOUND_PROVIDERS = ("openai", "anthropic", "google")


@dataclass(frozen=True)
class Rates:
    """USD per million tokens of one catalogue model (cache rates None when the catalogue has none)."""

    model: str
    input: float
    output: float
    cache_read: float | None
    cache_write: float | None


def _snapshot() -> DataSnapshot:
    from genai_prices import data_snapshot

    return data_snapshot.get_snapshot()


def snapshot_label() -> str:
    """Which catalogue priced a call: the package version names the bundled snapshot, a fetch has a date."""
    from genai_prices import __version__

    snapshot = _snapshot()
    if snapshot.from_auto_update:
        return f"genai-prices, snapshot of {snapshot.timestamp:%Y-%m-%d}"
    return f"genai-prices {__version__}, bundled snapshot"


def catalogue_provider_id(provider_type: str, base_url: str | None) -> str | None:
    """The catalogue's provider for one of ours: by base URL when set, else by type; None when unknown."""
    if base_url:
        for provider in _snapshot().providers:
            if re.match(provider.api_pattern, base_url):
                return provider.id
        if provider_type == "openai-compatible":
            return None
    # A first-party type behind a proxy or gateway URL still serves (and bills) that provider's models.
    return DEFAULT_PROVIDER_IDS.get(provider_type)


def _value(price: Any, *, highest: bool) -> float | None:
    """A price as a float; of tiered prices the base one (or the highest tier, for an upper bound)."""
    if price is None:
        return None
    if isinstance(price, Decimal | int | float):
        return float(price)
    tiers = [float(t.price) for t in price.tiers] if highest else []
    return max([float(price.base), *tiers])


def _rates(model: Any, *, highest: bool = False) -> Rates | None:
    return _priced(model.id, model.get_prices(datetime.now(UTC)), highest=highest)


def _priced(model_id: str, prices: Any, *, highest: bool) -> Rates | None:
    """A model's prices as Rates; None without both an input and an output price."""
    input_price = _value(prices.input_mtok, highest=highest)
    output_price = _value(prices.output_mtok, highest=highest)
    if input_price is None or output_price is None:
        return None
    return Rates(
        model_id,
        input_price,
        output_price,
        _value(prices.cache_read_mtok, highest=highest),
        _value(prices.cache_write_mtok, highest=highest),
    )


def _model(provider_id: str, model_id: str) -> Any | None:
    """The catalogue's model of a catalogue provider; None when it does not know it."""
    try:
        _, model = _snapshot().find_provider_model(model_id, None, provider_id, None)
    except LookupError:
        return None
    return model


@cache
def lookup(provider_id: str, model_id: str) -> Rates | None:
    """The catalogue's current rates for a model of a catalogue provider; None when it has none."""
    model = _model(provider_id, model_id)
    return None if model is None else _rates(model)


@cache
def batch_lookup(provider_id: str, model_id: str) -> Rates | None:
    """The catalogue's batch-API rates for a model (its `processing: batch` variant); None without one."""
    model = _model(provider_id, model_id)
    if model is None:
        return None
    now = datetime.now(UTC)
    standard, batch = model.get_prices(now), model.get_prices(now, {"processing": "batch"})
    return None if batch == standard else _priced(model.id, batch, highest=False)


def _bounded_models(provider: Provider) -> list[Any]:
    """A provider's own, current models (the provider's id pattern leaves out those it resells)."""
    match = provider.model_match
    return [
        m for m in provider.models if not m.deprecated and (match is None or match.is_match(m.id.lower()))
    ]


@cache
def dearest(provider_ids: tuple[str, ...]) -> Rates | None:
    """The highest input, output and cache-write rates of these providers' current models (an upper bound)."""
    providers = [p for p in _snapshot().providers if p.id in provider_ids]
    rates = [r for p in providers for m in _bounded_models(p) if (r := _rates(m, highest=True)) is not None]
    if not rates:
        return None
    top = max(rates, key=lambda r: (r.output, r.input))
    cache_writes = [r.cache_write for r in rates if r.cache_write is not None]
    # Cache reads are charged at the full input rate: a bound must not rely on a discount.
    return Rates(
        top.model,
        max(r.input for r in rates),
        max(r.output for r in rates),
        None,
        max(cache_writes) if cache_writes else None,
    )


_VERSION = re.compile(r"\d+(?:[.-]\d+)*")
NEWEST_OF_LINE = 3
"""A new model of a line is priced like the dearest of the line's three newest versions."""


def model_line(model_id: str) -> str:
    """A model's line: its id with version numbers and dates folded ('gpt-5.5' and 'gpt-9' -> 'gpt-#')."""
    return _VERSION.sub("#", model_id.lower())


def _version(model_id: str) -> tuple[int, ...]:
    found = _VERSION.search(model_id)
    return tuple(int(part) for part in re.split(r"[.-]", found.group())) if found else ()


@cache
def line_bound(provider_ids: tuple[str, ...], model_id: str) -> Rates | None:
    """The highest rates among the NEWEST_OF_LINE newest current models of `model_id`'s line; None when
    the catalogue has no model of that line (then only the provider's dearest model is a bound)."""
    line = model_line(model_id)
    providers = [p for p in _snapshot().providers if p.id in provider_ids]
    members = [
        r
        for p in providers
        for m in _bounded_models(p)
        if model_line(m.id) == line and (r := _rates(m, highest=True)) is not None
    ]
    if not members:
        return None
    newest = sorted(members, key=lambda r: _version(r.model), reverse=True)[:NEWEST_OF_LINE]
    top = max(newest, key=lambda r: (r.output, r.input))
    cache_writes = [r.cache_write for r in newest if r.cache_write is not None]
    return Rates(
        top.model,
        max(r.input for r in newest),
        max(r.output for r in newest),
        None,
        max(cache_writes) if cache_writes else None,
    )
