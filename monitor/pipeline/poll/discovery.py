"""Poll the configured providers concurrently: list each one, record what changed, report the outcomes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from monitor.core.errors import ConfigError
from monitor.pipeline.poll.listing import default_factory, list_provider
from monitor.pipeline.poll.record import ProviderOutcome, record_listing

if TYPE_CHECKING:
    from monitor.core.config import Config, ProviderConfig
    from monitor.providers.base import Provider
    from monitor.store.db import Database

# Every poll module logs under this one name (the CLI mutes it; the table shows the failures).
log = logging.getLogger("monitor.pipeline.poll")


@dataclass
class PollReport:
    """Every polled provider's outcome, in the order they were asked for."""

    outcomes: list[ProviderOutcome]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[str]:
        return [o.name for o in self.outcomes if not o.ok]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "providers": [asdict(o) for o in self.outcomes]}


def poll(
    db: Database,
    config: Config,
    providers: list[str] | None = None,
    *,
    dry_run: bool = False,
    factory: Callable[[str, ProviderConfig], Provider] = default_factory,
) -> PollReport:
    """List every named (default: every configured) provider concurrently and record the differences.

    A provider that fails is reported and changes nothing but its `provider_polls` row; the
    others are still polled. With `dry_run` nothing at all is written.
    """
    names = _provider_names(config, providers)
    outcomes: dict[str, ProviderOutcome] = {}
    with ThreadPoolExecutor(max_workers=min(len(names), 16), thread_name_prefix="poll") as pool:
        futures = [pool.submit(list_provider, name, config.providers[name], factory) for name in names]
        for future in as_completed(futures):
            listing = future.result()
            outcome = record_listing(db, config, listing, dry_run=dry_run)
            outcomes[listing.name] = outcome
            _log_outcome(outcome, dry_run)
    return PollReport(outcomes=[outcomes[name] for name in names], dry_run=dry_run)


def _provider_names(config: Config, providers: list[str] | None) -> list[str]:
    if not config.providers:
        raise ConfigError("no [providers.NAME] table in the config: nothing to poll")
    if not providers:
        return list(config.providers)
    unknown = [p for p in providers if p not in config.providers]
    if unknown:
        raise ConfigError(
            f"unknown provider {', '.join(repr(p) for p in unknown)}; "
            f"configured: {', '.join(config.providers)}"
        )
    return list(dict.fromkeys(providers))


def _log_outcome(outcome: ProviderOutcome, dry_run: bool) -> None:
    prefix = "dry run: " if dry_run else ""
    if not outcome.ok:
        log.warning("%s%s: poll failed (%s): %s", prefix, outcome.name, outcome.error_kind, outcome.error)
        return
    log.info(
        "%s%s: %d chat models of %d listed; %d new, %d removed, %d returned, %d now watched%s",
        prefix,
        outcome.name,
        outcome.listed,
        outcome.listed_total,
        len(outcome.new),
        len(outcome.removed),
        len(outcome.returned),
        len(outcome.watched),
        " (first poll: recorded, nothing queued)" if outcome.bootstrap else "",
    )
