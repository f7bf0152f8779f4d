"""Per-provider limits shared by every run in the process: bounded concurrency, RPM and TPM token buckets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from monitor.core.config import ProviderConfig

Clock = Callable[[], float]
"""Monotonic seconds (`time.monotonic`); injectable so tests can drive a fake clock."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits the given seconds (`asyncio.sleep`); injectable so tests can record waits without waiting."""

_ROUNDING = 1e-6
"""Tokens: a shortfall this small after a wait is float rounding, not a reason to wait again."""


class TokenBucket:
    """A token bucket refilled at `per_minute / 60` per second, holding at most `capacity`.

    Waiters are served in order. A request larger than the bucket waits for a full bucket and
    drives it negative, so the long-run rate still holds.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        capacity: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = capacity
        self.tokens = capacity
        self._clock = clock
        self._sleep = sleep
        self.updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        async with self._lock:
            needed = min(amount, self.capacity)
            self._refill()
            while needed - self.tokens > _ROUNDING:
                await self._sleep((needed - self.tokens) / self.rate)
                self._refill()
            self.tokens -= amount

    def adjust(self, amount: float) -> None:
        """Take (positive) or give back (negative) tokens once the real usage is known."""
        self._refill()
        self.tokens = min(self.capacity, self.tokens - amount)


class ProviderLimiter:
    """Concurrency slots plus optional RPM/TPM buckets and a shared pause after a 429."""

    def __init__(
        self,
        max_concurrency: int,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._clock = clock
        self._sleep = sleep
        # One request at a time at the steady rate: a burst at start would trip the server's own limit.
        self.requests = (
            TokenBucket(requests_per_minute, capacity=1.0, clock=clock, sleep=sleep)
            if requests_per_minute
            else None
        )
        # Tokens may arrive in bursts of up to ten seconds' worth.
        self.tokens = (
            TokenBucket(tokens_per_minute, capacity=max(1.0, tokens_per_minute / 6), clock=clock, sleep=sleep)
            if tokens_per_minute
            else None
        )
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every new request of this provider for `seconds` (a 429's retry-after)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def slot(self, estimated_tokens: int = 0) -> _Slot:
        """`async with limiter.slot(tokens):` one request's concurrency slot, after the rate limits."""
        return _Slot(self, estimated_tokens)

    async def acquire(self, estimated_tokens: int = 0) -> None:
        await self._slots.acquire()
        try:
            wait = self._paused_until - self._clock()
            if wait > 0:
                await self._sleep(wait)
            if self.requests is not None:
                await self.requests.acquire(1.0)
            if self.tokens is not None and estimated_tokens:
                await self.tokens.acquire(estimated_tokens)
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        self._slots.release()

    def settle_tokens(self, estimated: int, actual: int | None) -> None:
        """Correct the TPM bucket with the tokens a call really used."""
        if self.tokens is not None and actual is not None:
            self.tokens.adjust(actual - estimated)


class _Slot:
    """The async context manager of one slot (a class: cheaper than a generator per request)."""

    __slots__ = ("limiter", "tokens")

    def __init__(self, limiter: ProviderLimiter, tokens: int) -> None:
        self.limiter = limiter
        self.tokens = tokens

    async def __aenter__(self) -> None:
        await self.limiter.acquire(self.tokens)

    async def __aexit__(self, *exc: object) -> None:
        self.limiter.release()


_LIMITERS: dict[tuple[int, str, int, float | None, float | None], ProviderLimiter] = {}


def limiter_for(name: str, cfg: ProviderConfig, *, concurrency: int | None = None) -> ProviderLimiter:
    """The process-wide limiter of a provider in the running event loop (one per distinct setting)."""
    loop_id = id(asyncio.get_running_loop())
    slots = concurrency or cfg.max_concurrency
    key = (loop_id, name, slots, cfg.requests_per_minute, cfg.tokens_per_minute)
    limiter = _LIMITERS.get(key)
    if limiter is None:
        for stale in [k for k in _LIMITERS if k[0] != loop_id]:
            del _LIMITERS[stale]
        limiter = _LIMITERS[key] = ProviderLimiter(slots, cfg.requests_per_minute, cfg.tokens_per_minute)
    return limiter
