"""What every request handler shares: catalog, faults, rate limit, key, options and the counters."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from monitor.simulator.batch_store import BatchOptions, BatchStore
from monitor.simulator.catalog import PROVIDERS, Catalog
from monitor.simulator.faults import FaultPlan
from monitor.simulator.ratelimit import TokenBucket

OPENAI_LIST_QUIRKS = (None, "bare_array", "data_null", "no_created")


@dataclass
class Stats:
    """Counters behind GET /_sim/stats."""

    requests: int = 0
    in_flight: int = 0
    peak_concurrency: int = 0
    rate_limited: int = 0
    with_authorization: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)

    def enter(self, authorization: bool = False) -> None:
        """One provider request starts; `authorization` says it carried an Authorization header."""
        self.requests += 1
        self.with_authorization += authorization
        self.in_flight += 1
        if self.in_flight > self.peak_concurrency:
            self.peak_concurrency = self.in_flight

    def count(self, endpoint: str) -> None:
        self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def leave(self) -> None:
        self.in_flight -= 1


@dataclass
class SimState:
    """The simulator's mutable state; handlers run on one event loop, so plain counters suffice."""

    catalog: Catalog
    faults: FaultPlan
    api_key: str | None
    """The one key every provider accepts; None is a keyless server (llama.cpp without --api-key)."""
    latency_scale: float = 1.0
    limiter: TokenBucket | None = None
    openai_list_quirk: str | None = None
    batches: BatchStore = field(default_factory=lambda: BatchStore(time.time, BatchOptions()))
    """Batch jobs and files; the store holds the clock batch timing reads (tests inject a fake one)."""
    stats: Stats = field(default_factory=Stats)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def next_id(self, prefix: str) -> str:
        """A unique, readable request or object id."""
        return f"{prefix}{next(self._ids):012x}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.stats.requests,
            "in_flight": self.stats.in_flight,
            "peak_concurrency": self.stats.peak_concurrency,
            "by_endpoint": dict(self.stats.by_endpoint),
            "polls": {p: self.catalog.polls[p] for p in PROVIDERS},
            "faults_injected": sum(self.faults.injected.values()),
            "faults_by_kind": dict(self.faults.injected),
            "rate_limited": self.stats.rate_limited,
            "with_authorization": self.stats.with_authorization,
            "batches": {p: len(self.batches.newest_first(p)) for p in ("openai", "anthropic")},
        }
