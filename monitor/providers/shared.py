"""An account's requests and tokens per minute, counted for every process and host in the database."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from monitor.providers.base import RateLimited
from monitor.providers.shared_slots import SharedSlots
from monitor.store.db import Database
from monitor.store.shared_limits import reserve_sends, take_requests

log = logging.getLogger(__name__)

WINDOW_S = 60
"""Tokens count in fixed windows of one minute, aligned on the epoch, the same on every host."""
MAX_WINDOWS = 60
"""How many spent windows one request waits through for its tokens before it gives up (an hour)."""
CHUNKS_PER_WINDOW = 20
"""A process takes a window's tokens in chunks of limit / 20, one database round trip per chunk."""
CHUNK_S = 1.0
"""A process reserves at most this many seconds of the account's send schedule per round trip."""
LATE_S = 0.25
"""A send time this far in the past is dropped, not used: sending it late could burst past the limit."""


class SharedRequests:
    """An account's requests/min as one send schedule shared through its `rate_schedules` row.

    Each round trip reserves the next few send times, `60 / limit` seconds apart, and the process
    sends its requests at those times: all the processes together send no faster than the limit in any
    span, not only per minute (providers meter in seconds, not in aligned minutes). Times this process
    missed (it had no request waiting) are dropped, and it then reserves fewer per trip.
    """

    def __init__(
        self,
        db: Database,
        account: str,
        per_minute: float,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        block: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.chunk = max(1, round(CHUNK_S / self.interval))
        self.taken = 0
        """Send times this process reserved in the database (used or dropped): what tests count."""
        self._db = db
        self._account = account
        self._wall = wall
        self._sleep = sleep
        self._block = block
        self._times: deque[float] = deque()
        self._count = 1  # send times per reservation: doubled while all are used, halved when some are missed
        self._missed = False
        self._lock = threading.Lock()

    def _next_local(self) -> float | None:
        """Seconds until this process's next reserved send time (dropping missed ones), or None."""
        now = self._wall()
        while self._times and self._times[0] < now - LATE_S:
            self._times.popleft()
            self._missed = True
        return max(self._times.popleft() - now, 0.0) if self._times else None

    def _local(self) -> float | None:
        with self._lock:
            return self._next_local()

    def try_take(self) -> float:
        """Take this process's next send time, reserving more in the database when none is left;
        returns the seconds to wait before sending (0.0: send now)."""
        with self._lock:
            wait = self._next_local()
            if wait is not None:
                return wait
            self._count = max(1, self._count // 2) if self._missed else min(self.chunk, self._count * 2)
            self._missed = False
            now = self._wall()
            first = reserve_sends(self._db, self._account, now, self._count, self.interval)
            self.taken += self._count
            self._times.extend(first + i * self.interval for i in range(1, self._count))
            return max(first - self._wall(), 0.0)

    async def acquire(self) -> None:
        """Wait for this process's next send time of the shared limit."""
        wait = self._local()
        if wait is None:
            wait = await asyncio.to_thread(self.try_take)
        if wait > 0:
            await self._sleep(wait)

    def take_blocking(self) -> None:
        """`acquire` for a blocking caller (a model-list page)."""
        wait = self.try_take()
        if wait > 0:
            self._block(wait)


class SharedTokens:
    """An account's tokens/min shared through `rate_windows` rows of its own (key + ' tokens').

    A request reserves its estimated tokens from the process's chunk of the current window before it
    is sent; after it, `settle` gives back what it did not use (to this process, for this window) or
    counts what it used beyond the estimate against the next chunks taken. What is left of a chunk at
    the minute's end is dropped, so all the processes together stay within the limit in each window.
    """

    def __init__(
        self,
        db: Database,
        account: str,
        per_minute: float,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = max(1, int(per_minute))
        self.chunk = max(1, self.limit // CHUNKS_PER_WINDOW)
        self.taken = 0
        """Tokens this process took from the database: what tests count."""
        self._db = db
        self._account = f"{account} tokens"
        self._wall = wall
        self._sleep = sleep
        self._window: int | None = None
        self._left = 0
        self._owed = 0  # tokens used beyond the estimates, paid from the next chunks
        self._lock = threading.Lock()

    def _current(self) -> int:
        return int(self._wall() // WINDOW_S) * WINDOW_S

    def try_take(self, tokens: int) -> float:
        """Reserve `tokens` (at most the limit), taking chunks from the database as needed; 0.0 when
        reserved, else the seconds until the next window."""
        needed = min(max(tokens, 0), self.limit)
        with self._lock:
            start = self._current()
            if self._window != start:
                self._window, self._left = start, 0
            if self._left < needed + self._owed:
                wanted = max(self.chunk, needed + self._owed - self._left)
                got = take_requests(self._db, self._account, start, wanted, self.limit)
                self.taken += got
                self._left += got
            paid = min(self._owed, self._left)
            self._owed -= paid
            self._left -= paid
            if self._left >= needed:
                self._left -= needed
                return 0.0
            return max(start + WINDOW_S - self._wall(), 0.001)

    async def acquire(self, tokens: int) -> None:
        """Wait (through at most `MAX_WINDOWS` spent windows) for `tokens` of the shared limit."""
        for _ in range(MAX_WINDOWS):
            wait = await asyncio.to_thread(self.try_take, tokens)
            if not wait:
                return
            await self._sleep(wait)
        raise RateLimited(
            f"the shared limit of {self.limit} tokens/min stayed spent for {MAX_WINDOWS} minutes"
        )

    def settle(self, estimated: int, actual: int) -> None:
        """Correct a reservation with the tokens the call really used."""
        with self._lock:
            if actual > estimated:
                self._owed += actual - estimated
            elif self._window == self._current():
                self._left += estimated - actual


@dataclass
class SharedLimits:
    """The limits of a `shared_limits = true` account that every process and host counts together."""

    requests: SharedRequests | None = None
    tokens: SharedTokens | None = None
    slots: SharedSlots | None = None

    async def acquire_slot(self) -> None:
        """One of the account's concurrency slots (taken before the rates, which are spent at sending)."""
        if self.slots is not None:
            await self.slots.acquire()

    async def acquire_rates(self, tokens: int) -> None:
        """The request's estimated tokens, then its send time: the last wait before the request is sent."""
        if self.tokens is not None and tokens:
            await self.tokens.acquire(tokens)
        if self.requests is not None:
            await self.requests.acquire()

    def release_slot(self) -> None:
        if self.slots is not None:
            self.slots.release()

    def settle_tokens(self, estimated: int, actual: int) -> None:
        if self.tokens is not None:
            self.tokens.settle(estimated, actual)

    def take_blocking(self) -> None:
        """A blocking caller's request (a model-list page): its send time only."""
        if self.requests is not None:
            self.requests.take_blocking()


def shared_limits_for(
    db: Database | None,
    account: str,
    *,
    max_concurrency: int,
    requests_per_minute: float | None,
    tokens_per_minute: float | None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SharedLimits | None:
    """The shared limits of a `shared_limits = true` account; None without a database to share them
    through (the limits then hold per process, as without the option)."""
    if db is None:
        log.warning("shared_limits of %s: no database to share through, its limits hold per process", account)
        return None
    return SharedLimits(
        SharedRequests(db, account, requests_per_minute, sleep=sleep) if requests_per_minute else None,
        SharedTokens(db, account, tokens_per_minute, sleep=sleep) if tokens_per_minute else None,
        SharedSlots(db, account, max_concurrency, sleep=sleep),
    )
