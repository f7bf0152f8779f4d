"""Which model ids are known (what poll recorded or a live listing; what the database saw), nearest ids."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import literal, select, union

from monitor.core.errors import InputError, MonitorError
from monitor.pipeline.poll.listing import default_factory, list_provider
from monitor.store.tables import Model, Run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config, ProviderConfig
    from monitor.providers.base import Provider

NEAREST = 3


@dataclass(frozen=True)
class KnownIds:
    """A provider's model ids: listed now, or removed (when), and where they came from."""

    provider: str
    active: frozenset[str]
    removed: dict[str, datetime] = field(default_factory=dict)
    source: str = "recorded"  # "recorded": the models table (poll); "listed": one live list call

    def nearest(self, model_id: str) -> list[str]:
        """The known ids closest to `model_id` (difflib's ratio), closest first."""
        return difflib.get_close_matches(model_id, sorted(self.active), n=NEAREST, cutoff=0.0)


def known_ids(
    session: Session,
    config: Config,
    provider: str,
    factory: Callable[[str, ProviderConfig], Provider] = default_factory,
) -> KnownIds:
    """What poll recorded for `provider` (one query); a provider never polled is listed once, live
    (the adapter's timeouts and bounded retry), and nothing is written. MonitorError when that fails."""
    rows = session.execute(select(Model.model_id, Model.removed_at).where(Model.provider == provider)).all()
    if rows:
        return KnownIds(
            provider,
            frozenset(m for m, removed_at in rows if removed_at is None),
            {m: removed_at for m, removed_at in rows if removed_at is not None},
        )
    listing = list_provider(provider, config.providers[provider], factory)
    if not listing.ok:
        raise MonitorError(
            f"cannot check the model ids of '{provider}': its model list failed ({listing.error}); "
            "pass --force to evaluate anyway"
        )
    return KnownIds(provider, frozenset(listing.listed_ids), source="listed")


def refuse_unknown(
    session: Session,
    config: Config,
    models: Iterable[tuple[str, str]],
    factory: Callable[[str, ProviderConfig], Provider] = default_factory,
) -> None:
    """InputError (exit 2) naming each (provider, model id) its provider does not list, with the
    nearest known ids; each provider is looked up once."""
    cache: dict[str, KnownIds] = {}
    problems: list[str] = []
    for provider, model_id in models:
        if provider not in cache:
            cache[provider] = known_ids(session, config, provider, factory)
        known = cache[provider]
        if model_id in known.active:
            continue
        where = "the models `poll` recorded" if known.source == "recorded" else "its model list"
        if model_id in known.removed:
            removed_on = f"{known.removed[model_id]:%Y-%m-%d}"
            problem = f"'{provider}:{model_id}' was removed from {provider}'s list on {removed_on}"
        else:
            problem = f"'{provider}:{model_id}' is not in {where} for {provider}"
        nearest = known.nearest(model_id)
        if nearest:
            problem += " (nearest: " + ", ".join(f"{provider}:{m}" for m in nearest) + ")"
        problems.append(problem)
    if problems:
        advice = "run `model-monitor poll` if it is new, or pass --force to evaluate anyway"
        raise InputError("; ".join([*problems, advice]))


def refuse_unrecorded(session: Session, model_keys: Iterable[str]) -> None:
    """InputError (exit 2) for each `provider:model` the database has never seen although it knows that
    provider's list (a poll recorded it), or whose provider it has never seen at all, with the nearest
    keys it has. A provider known only from runs (never polled) cannot tell a typo from a model not
    evaluated yet: those keys pass, for the comparison to say what is missing. One query."""
    query = union(
        select(Model.provider, Model.model_id, literal(True)),
        select(Run.provider, Run.model_id, literal(False)),
    )
    rows = session.execute(query).all()
    known = {f"{provider}:{model_id}" for provider, model_id, _ in rows}
    polled = {provider for provider, _, recorded in rows if recorded}
    seen = {provider for provider, _, _ in rows}
    problems = []
    for key in dict.fromkeys(model_keys):
        provider = key.partition(":")[0]
        if key in known or (provider in seen and provider not in polled):
            continue
        nearest = difflib.get_close_matches(key, sorted(known), n=NEAREST, cutoff=0.0)
        problem = f"no model '{key}' in the database: no poll listed it and no run used it"
        problems.append(problem + (f" (nearest: {', '.join(nearest)})" if nearest else ""))
    if problems:
        raise InputError("; ".join([*problems, "see `model-monitor models` and `model-monitor runs`"]))
