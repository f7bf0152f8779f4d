"""One limiter per provider account, shared by every caller: concurrency, RPM and TPM buckets, 429 pauses."""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from monitor.core.config import ProviderConfig
from monitor.providers.base import ChatRequest, Completion, Provider, ProviderError, ProviderTimeout
from monitor.providers.breaker import CircuitBreaker
from monitor.providers.shared import SharedLimits, shared_limits_for
from monitor.store.db import Database

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Monotonic seconds (`time.monotonic`); injectable so tests can drive a fake clock."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits the given seconds (`asyncio.sleep`); injectable so tests can record waits without waiting."""
T = TypeVar("T")

_ROUNDING = 1e-6
"""Tokens: a shortfall this small after a wait is float rounding, not a reason to wait again."""


class Gate:
    """A FIFO semaphore whose count lives outside any event loop, so callers on any loop share it.

    Only the waiting is loop-local: a waiter parks on a future of its own running loop, and a
    release on another loop (or thread) hands the permit over with `call_soon_threadsafe`.
    """

    def __init__(self, permits: int) -> None:
        self._free = permits
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            with self._lock:
                queued = (loop, waiter) in self._waiters
                if queued:
                    self._waiters.remove((loop, waiter))
            if not queued and not waiter.cancelled():
                self.release()  # the permit arrived together with the cancellation: pass it on
            raise

    def release(self) -> None:
        """Give a permit to the first live waiter, or back to the pool."""
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if waiter.done():
                    continue
                try:
                    if _running_loop() is loop:
                        loop.call_soon(self._hand_over, waiter)
                    else:
                        loop.call_soon_threadsafe(self._hand_over, waiter)
                except RuntimeError:  # that loop is closed: its waiter will never run
                    continue
                return
            self._free += 1

    def _hand_over(self, waiter: asyncio.Future[None]) -> None:
        if waiter.cancelled():
            self.release()  # cancelled while the permit was on its way
        else:
            waiter.set_result(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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
        self._turn = Gate(1)
        # Callers on other threads (another event loop, a blocking model list) settle tokens too.
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def _shortfall(self, needed: float) -> float:
        with self._lock:
            self._refill()
            return needed - self.tokens

    async def acquire(self, amount: float = 1.0) -> None:
        await self._turn.acquire()
        try:
            needed = min(amount, self.capacity)
            while (short := self._shortfall(needed)) > _ROUNDING:
                await self._sleep(short / self.rate)
            self.adjust(amount)
        finally:
            self._turn.release()

    def adjust(self, amount: float) -> None:
        """Take (positive) or give back (negative) tokens once the real usage is known."""
        with self._lock:
            self._refill()
            self.tokens = min(self.capacity, self.tokens - amount)


class Limiter(abc.ABC):
    """What every caller of a provider account goes through (in-process today; a database one later)."""

    breaker: CircuitBreaker

    @abc.abstractmethod
    async def acquire(self, estimated_tokens: int = 0) -> None:
        """Wait for a concurrency slot, the end of any pause, and the RPM/TPM budget."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the slot back."""

    @abc.abstractmethod
    def pause(self, seconds: float) -> None:
        """Hold every new request of the account for `seconds` (a 429's retry-after)."""

    @abc.abstractmethod
    def settle_tokens(self, estimated: int, actual: int | None) -> None:
        """Correct the TPM budget with the tokens a call really used."""

    @abc.abstractmethod
    def wait_blocking(self) -> None:
        """For a blocking caller (a model-list page): wait out any pause, then spend one request."""

    def slot(self, estimated_tokens: int = 0) -> _Slot:
        """`async with limiter.slot(tokens):` one request's concurrency slot, after the rate limits."""
        return _Slot(self, estimated_tokens)


class ProviderLimiter(Limiter):
    """Concurrency slots plus optional RPM/TPM buckets and a shared pause after a 429, in this process."""

    def __init__(
        self,
        max_concurrency: int,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        block: Callable[[float], None] = time.sleep,
        shared: SharedLimits | None = None,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.shared = shared  # the limits of every process together, when shared_limits is on
        self._block = block
        self._slots = Gate(max_concurrency)
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
        self.breaker = CircuitBreaker(clock=clock, sleep=sleep)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self, estimated_tokens: int = 0) -> None:
        await self.breaker.admit()
        await self._slots.acquire()
        try:
            if self.shared is not None:
                await self.shared.acquire_slot()
        except BaseException:
            self._slots.release()
            raise
        try:
            wait = self._paused_until - self._clock()
            if wait > 0:
                await self._sleep(wait)
            if self.requests is not None:
                await self.requests.acquire(1.0)
            if self.tokens is not None and estimated_tokens:
                await self.tokens.acquire(estimated_tokens)
            if self.shared is not None:  # the shared send time last: the request goes out at it
                await self.shared.acquire_rates(estimated_tokens)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self.shared is not None:
            self.shared.release_slot()
        self._slots.release()

    def wait_blocking(self) -> None:
        wait = self._paused_until - self._clock()
        if wait > 0:
            self._block(wait)
        if self.requests is not None:
            self.requests.adjust(1.0)  # the bucket may go below zero: async callers then wait it back
        if self.shared is not None:
            self.shared.take_blocking()

    def settle_tokens(self, estimated: int, actual: int | None) -> None:
        if self.tokens is not None and actual is not None:
            self.tokens.adjust(actual - estimated)
        if self.shared is not None and actual is not None:
            self.shared.settle_tokens(estimated, actual)


class _Slot:
    """The async context manager of one slot (a class: cheaper than a generator per request)."""

    __slots__ = ("limiter", "tokens")

    def __init__(self, limiter: Limiter, tokens: int) -> None:
        self.limiter = limiter
        self.tokens = tokens

    async def __aenter__(self) -> None:
        await self.limiter.acquire(self.tokens)

    async def __aexit__(self, *exc: object) -> None:
        self.limiter.release()


@dataclass(frozen=True)
class Account:
    """Who a provider's limits belong to: its type, base URL and the variable holding its API key."""

    type: str
    base_url: str
    api_key_env: str | None

    @classmethod
    def of(cls, cfg: ProviderConfig) -> Account:
        return cls(cfg.type, (cfg.base_url or "").rstrip("/"), cfg.api_key_env)

    @property
    def key(self) -> str:
        """The account's name in the database's `rate_windows` (the same on every host)."""
        return f"{self.type} {self.base_url} {self.api_key_env or ''}"


@dataclass(frozen=True)
class Limits:
    """The configured limits of an account."""

    max_concurrency: int
    requests_per_minute: float | None
    tokens_per_minute: float | None
    shared: bool = False

    @classmethod
    def of(cls, cfg: ProviderConfig) -> Limits:
        return cls(cfg.max_concurrency, cfg.requests_per_minute, cfg.tokens_per_minute, cfg.shared_limits)


class LimiterRegistry(abc.ABC):
    """Hands every caller of one account the same limiter."""

    @abc.abstractmethod
    def get(self, account: Account, limits: Limits) -> Limiter:
        """The account's limiter under `limits` (changed limits, as after a config reload, win)."""


class InProcessLimiters(LimiterRegistry):
    """Limiters shared by every run, judge and event loop of this process (not across processes)."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._limiters: dict[Account, tuple[Limits, Limiter]] = {}
        self._database: Database | None = None

    def share_through(self, db: Database | None) -> None:
        """Count the limits of `shared_limits` accounts in `db`, with every other process using it."""
        with self._lock:
            self._database = db
            self._limiters = {a: known for a, known in self._limiters.items() if not known[0].shared}

    def get(self, account: Account, limits: Limits) -> Limiter:
        with self._lock:
            known = self._limiters.get(account)
            if known is not None and known[0] == limits:
                return known[1]
            if known is not None:
                where = account.base_url or "(default URL)"
                log.info("limits of the %s account at %s changed to %s", account.type, where, limits)
            limiter = ProviderLimiter(
                limits.max_concurrency,
                limits.requests_per_minute,
                limits.tokens_per_minute,
                clock=self._clock,
                sleep=self._sleep,
                shared=(
                    shared_limits_for(
                        self._database,
                        account.key,
                        max_concurrency=limits.max_concurrency,
                        requests_per_minute=limits.requests_per_minute,
                        tokens_per_minute=limits.tokens_per_minute,
                        sleep=self._sleep,
                    )
                    if limits.shared
                    else None
                ),
            )
            self._limiters[account] = (limits, limiter)
            return limiter


LIMITERS: LimiterRegistry = InProcessLimiters()
"""The process's registry; a cross-process (database) one can replace it."""


def share_limits_through(db: Database | None) -> None:
    """Share the `shared_limits = true` accounts' limits through `db` (a worker or daemon calls it
    once it has opened its database); without it they stay per process."""
    if isinstance(LIMITERS, InProcessLimiters):
        LIMITERS.share_through(db)


def limiter_for(cfg: ProviderConfig) -> Limiter:
    """The limiter of `cfg`'s account, shared with every other caller of that account."""
    return LIMITERS.get(Account.of(cfg), Limits.of(cfg))


def limited_list_call(limiter: Limiter, call: Callable[[], T]) -> T:
    """One blocking list request through the account's limiter; its 429 pauses every caller of the account."""
    limiter.wait_blocking()
    try:
        result = call()
    except ProviderError as error:
        _failed(limiter, error)
        raise
    limiter.breaker.record(None)
    return result


def _failed(limiter: Limiter, error: ProviderError) -> None:
    """What every caller of an account learns from a failed call: the breaker's count, a 429's pause."""
    limiter.breaker.record(error)
    if error.kind == "rate_limited" and error.retry_after:
        limiter.pause(error.retry_after)


async def limited_complete(
    provider: Provider, request: ChatRequest, limiter: Limiter, *, tokens: int, timeout_s: float
) -> Completion:
    """One chat call through the account's limiter, within `timeout_s`; a 429 pauses the whole account."""
    async with limiter.slot(tokens):
        try:
            async with asyncio.timeout(timeout_s):
                completion = await provider.complete(request)
        except TimeoutError:
            timeout = ProviderTimeout(f"no answer within {timeout_s:g}s", provider=provider.name)
            _failed(limiter, timeout)
            raise timeout from None
        except ProviderError as error:
            _failed(limiter, error)
            raise
    limiter.breaker.record(None)
    used: int | None = None
    if completion.input_tokens is not None and completion.output_tokens is not None:
        used = completion.input_tokens + completion.output_tokens
    limiter.settle_tokens(tokens, used)
    return completion
