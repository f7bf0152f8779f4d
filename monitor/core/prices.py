"""A model's price and its source: `[pricing]`, a free provider, the catalogue, or an upper bound."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from monitor.core import catalogue
from monitor.core.errors import ConfigError

BATCH_DISCOUNTS = {"openai": 0.5, "anthropic": 0.5}
"""The share off every rate in the providers' batch APIs (both document half price), by provider type."""
BATCH_MARK = "batch price"
"""What a batch price's source says, so a stored cost shows (and `reprice` knows) it was a batch's."""


class PriceConfig(BaseModel):
    """USD per million tokens; cached input and cache writes cost the input rate unless set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    batch_discount: float | None = Field(default=None, ge=0, le=1)
    """The share off every rate in the provider's batch API (default: BATCH_DISCOUNTS by provider type)."""


class ResolvedPrice(PriceConfig):
    """A model's price with where it came from: `source` is shown next to every cost it makes."""

    source: str
    estimated: bool = False  # an upper bound standing in for an unknown price


class PricedProvider(Protocol):
    """What pricing needs of a `[providers.NAME]` table."""

    @property
    def type(self) -> str: ...
    @property
    def base_url(self) -> str | None: ...
    @property
    def free(self) -> bool: ...


def configured(
    pricing: Mapping[str, PriceConfig], providers: Mapping[str, PricedProvider], model_key: str
) -> PriceConfig | None:
    """`[pricing]`'s price of `provider:model`: an exact entry, then the longest matching glob, then a
    `free = true` provider; None when the config says nothing."""
    if model_key in pricing:
        return pricing[model_key]
    globs = [g for g in pricing if fnmatch.fnmatchcase(model_key, g)]
    if globs:
        return pricing[max(globs, key=len)]
    provider = providers.get(model_key.partition(":")[0])
    return PriceConfig(input=0, output=0) if provider is not None and provider.free else None


def _catalogue_id(providers: Mapping[str, PricedProvider], model_key: str) -> str | None:
    provider = providers.get(model_key.partition(":")[0])
    return catalogue.catalogue_provider_id(provider.type, provider.base_url) if provider else None


def resolve(
    pricing: Mapping[str, PriceConfig], providers: Mapping[str, PricedProvider], model_key: str
) -> ResolvedPrice:
    """The price of `provider:model` and its source: the config, else the catalogue, else an upper bound
    (docs/pricing.md): a model nobody priced yet is still evaluated, at a cost never understated."""
    price = configured(pricing, providers, model_key)
    if price is not None:
        return ResolvedPrice(**price.model_dump(), source="config")
    catalogue_id = _catalogue_id(providers, model_key)
    rates = catalogue.lookup(catalogue_id, model_key.partition(":")[2]) if catalogue_id else None
    if rates is None:
        return upper_bound(pricing, providers, model_key)
    return _catalogued(rates, f"catalogue ({catalogue.snapshot_label()})")


def _catalogued(rates: catalogue.Rates, source: str) -> ResolvedPrice:
    """The catalogue's rates as a price from `source`."""
    return ResolvedPrice(
        input=rates.input,
        output=rates.output,
        cached_input=rates.cache_read,
        cache_write=rates.cache_write,
        source=source,
    )


def upper_bound(
    pricing: Mapping[str, PriceConfig], providers: Mapping[str, PricedProvider], model_key: str
) -> ResolvedPrice:
    """A price for a model nobody priced yet (docs/pricing.md): the dearest of the newest known models of
    its line (its id without versions: 'gpt-9' is priced like the newest 'gpt-#' models), from the
    catalogue and `[pricing]`; with no model of that line, the dearest model of its provider (of every
    provider we have adapters for when the catalogue does not know the server)."""
    name, _, model_id = model_key.partition(":")
    catalogue_id = _catalogue_id(providers, model_key)
    provider_ids = (catalogue_id,) if catalogue_id else catalogue.FALLBACK_BOUND_PROVIDERS
    line = catalogue.model_line(model_id)
    bound = catalogue.line_bound(provider_ids, model_id)
    by_line = bound is not None
    own = [k for k in pricing if k.startswith(f"{name}:")]
    if by_line:
        own = [k for k in own if catalogue.model_line(k.partition(":")[2]) == line]
    else:
        bound = catalogue.dearest(provider_ids)
    candidates = [(bound.input, bound.output, bound.cache_write, bound.model)] if bound else []
    candidates += [(pricing[k].input, pricing[k].output, pricing[k].cache_write, k) for k in own]
    if not candidates:
        raise ConfigError(f"no price is known for any model of provider '{name}'")
    top = max(candidates, key=lambda c: (c[1], c[0]))
    top_input = max(c[0] for c in candidates)
    return ResolvedPrice(
        input=top_input,
        output=max(c[1] for c in candidates),
        # A bound relies on no discount: cache writes cost at least the input rate.
        cache_write=max([top_input, *(c[2] for c in candidates if c[2] is not None)]),
        source=(
            f"estimated: priced like {top[3]}, the dearest of the newest {line} models"
            if by_line
            else f"estimated upper bound (the price of {top[3]})"
        ),
        estimated=True,
    )


def batch_resolve(
    pricing: Mapping[str, PriceConfig], providers: Mapping[str, PricedProvider], model_key: str
) -> ResolvedPrice | None:
    """The price of `provider:model` in its provider's batch API: `[pricing]`'s rates less its
    `batch_discount`, else the catalogue's batch rates, else the full price less the provider's
    documented discount; None when no discount is known (a provider type without a batch API)."""
    provider = providers.get(model_key.partition(":")[0])
    default = BATCH_DISCOUNTS.get(provider.type) if provider is not None else None
    price = configured(pricing, providers, model_key)
    if price is None:
        catalogue_id = _catalogue_id(providers, model_key)
        rates = catalogue.batch_lookup(catalogue_id, model_key.partition(":")[2]) if catalogue_id else None
        if rates is not None:
            return _catalogued(rates, f"catalogue ({catalogue.snapshot_label()}), {BATCH_MARK}")
    full = resolve(pricing, providers, model_key)
    discount = price.batch_discount if price is not None and price.batch_discount is not None else default
    return None if discount is None else discounted(full, discount)


def discounted(price: ResolvedPrice, discount: float) -> ResolvedPrice:
    """`price` with `discount` (a share, 0.5 = half) off every rate, its source saying so."""
    keep = 1.0 - discount

    def cut(rate: float | None) -> float | None:
        return None if rate is None else rate * keep

    return price.model_copy(
        update={
            "input": price.input * keep,
            "output": price.output * keep,
            "cached_input": cut(price.cached_input),
            "cache_write": cut(price.cache_write),
            "source": f"{price.source}, {BATCH_MARK} ({discount:.0%} off)",
        }
    )
