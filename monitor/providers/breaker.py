"""A provider account's circuit breaker: during an outage, one probe at a time, not a flood of errors."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from monitor.providers.base import ProviderError

OUTAGE_KINDS = frozenset({"connection", "overloaded", "timeout"})
"""Failures that say the provider is down or unwell, not that this request was wrong."""
OPEN_AFTER_S = 10.0
"""Nothing but outage errors for this long opens the breaker."""
PROBE_FIRST_S = 1.0
PROBE_MAX_S = 30.0
"""While open, one call (the probe) is let through after 1 s, then 2, 4 ... up to every 30 s."""
WAIT_STEP_S = 1.0


class CircuitBreaker:
    """Closed while the account answers; open after OPEN_AFTER_S of only outage errors; any answer closes it.

    Shared by every caller of one account (runs, judge, polls), from any thread or event loop.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        open_after_s: float = OPEN_AFTER_S,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.open_after_s = open_after_s
        self._lock = threading.Lock()
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self._next_probe_at = 0.0
        self._probe_interval = PROBE_FIRST_S

    @property
    def in_outage(self) -> bool:
        """No call has been answered since the last outage error."""
        return self.failing_since is not None

    @property
    def is_open(self) -> bool:
        since = self.failing_since
        return since is not None and self._clock() - since >= self.open_after_s

    def record(self, error: ProviderError | None) -> None:
        """Note a call's outcome: an outage error keeps the outage going; anything answered ends it."""
        with self._lock:
            if error is None or error.kind not in OUTAGE_KINDS:
                self.failing_since = None
                self.last_error = None
                self._probe_interval = PROBE_FIRST_S
                return
            if self.failing_since is None:
                self.failing_since = self._clock()
                self._next_probe_at = self.failing_since + self.open_after_s
            self.last_error = str(error)

    def _probe_turn(self) -> float:
        """0 when this caller may call now (closed, or it is the probe); else the seconds to wait."""
        with self._lock:
            if not self.is_open:
                return 0.0
            now = self._clock()
            if now >= self._next_probe_at:
                self._next_probe_at = now + self._probe_interval
                self._probe_interval = min(PROBE_MAX_S, self._probe_interval * 2)
                return 0.0
            return self._next_probe_at - now

    async def admit(self) -> None:
        """Wait while the breaker is open, until this caller is the next probe or an answer closes it."""
        while (wait := self._probe_turn()) > 0:
            await self._sleep(min(wait, WAIT_STEP_S))

    async def step(self) -> None:
        """A short wait for a caller that will try again during an outage (never a tight loop)."""
        await self._sleep(WAIT_STEP_S)
