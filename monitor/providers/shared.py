"""Requests per minute of one provider account counted for every process and host, through the database."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable

from monitor.providers.base import RateLimited
from monitor.store.db import Database
from monitor.store.shared_limits import take_requests

log = logging.getLogger(__name__)

WINDOW_S = 60
"""The fixed window the limit counts in: one minute, aligned on the epoch, the same on every host."""
MAX_WINDOWS = 60
"""How many spent windows one request waits through before it gives up as rate limited (an hour)."""
CHUNKS_PER_WINDOW = 20
"""A process takes a window's requests in chunks of limit / 20, one database round trip per chunk."""


class SharedRequests:
    """An account's requests-per-minute shared through a `rate_windows` row per minute.

    The process takes requests from the current window in chunks and spends them locally; what is left
    of a chunk when the minute ends is dropped (never carried into the next window), so all the
    processes together never pass the limit in any window.
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
        self.limit = max(1, int(per_minute))
        self.chunk = max(1, self.limit // CHUNKS_PER_WINDOW)
        self.taken = 0
        """Requests this process took from the database (spent or dropped): what tests count."""
        self._db = db
        self._account = account
        self._wall = wall
        self._sleep = sleep
        self._block = block
        self._window: int | None = None
        self._left = 0
        self._lock = threading.Lock()

    def _spend_local(self) -> bool:
        """Spend one request of the chunk in hand, if it belongs to the current window."""
        with self._lock:
            if self._window == self._current() and self._left > 0:
                self._left -= 1
                return True
            return False

    def _current(self) -> int:
        return int(self._wall() // WINDOW_S) * WINDOW_S

    def try_take(self) -> float:
        """Spend one request (0.0), fetching a chunk from the database when needed, or return the
        seconds until the next window when this one is spent for every process."""
        with self._lock:
            start = self._current()
            if self._window != start:
                self._window, self._left = start, 0
            if self._left == 0:
                self._left = take_requests(self._db, self._account, start, self.chunk, self.limit)
                self.taken += self._left
            if self._left > 0:
                self._left -= 1
                return 0.0
            return max(start + WINDOW_S - self._wall(), 0.001)

    async def acquire(self) -> None:
        """Wait (through at most `MAX_WINDOWS` spent windows) for one request of the shared limit."""
        if self._spend_local():
            return
        for _ in range(MAX_WINDOWS):
            wait = await asyncio.to_thread(self.try_take)
            if not wait:
                return
            await self._sleep(wait)
        raise RateLimited(
            f"the shared limit of {self.limit} requests/min stayed spent for {MAX_WINDOWS} minutes"
        )

    def take_blocking(self) -> None:
        """`acquire` for a blocking caller (a model-list page)."""
        if self._spend_local():
            return
        for _ in range(MAX_WINDOWS):
            wait = self.try_take()
            if not wait:
                return
            self._block(wait)
        raise RateLimited(
            f"the shared limit of {self.limit} requests/min stayed spent for {MAX_WINDOWS} minutes"
        )


def shared_requests(
    db: Database | None,
    account: str,
    per_minute: float | None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> SharedRequests | None:
    """The shared requests/min of a `shared_limits = true` account; None without a limit or a database
    to share it through (the limit then holds per process, as without the option)."""
    if not per_minute:
        return None
    if db is None:
        log.warning("shared_limits of %s: no database to share through, its limits hold per process", account)
        return None
    return SharedRequests(db, account, per_minute, sleep=sleep)
