"""Concurrency slots of one provider account shared by every process and host, through expiring leases."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable

from monitor.providers.base import RateLimited
from monitor.store.db import Database
from monitor.store.shared_slots import hold_slots

log = logging.getLogger(__name__)

LEASE_S = 15.0
"""A process's slots come back to the others this long after its last renewal (it crashed or hung)."""
HEARTBEAT_S = 3.0
"""How often a process holding slots renews its lease and gives back what it does not use."""
MIN_SYNC_S = 0.2
"""A process waiting for slots, or over its fair share, goes to the database at most this often."""
MAX_WAIT_S = 3600.0
"""A request waiting this long for a slot of the shared limit gives up as rate limited."""
CHUNKS = 4
"""A process takes slots in chunks of max_concurrency / 4, so most requests need no round trip."""


def holder_name() -> str:
    """This process's name in `concurrency_leases`: host, pid and a random part (pids repeat on restarts)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SharedSlots:
    """An account's `max_concurrency` shared by every process as leases on `concurrency_leases` rows.

    A process holds a number of slots in the database and admits requests locally while it uses fewer;
    it takes more in chunks, and a heartbeat thread renews its lease every `HEARTBEAT_S` and gives back
    idle slots and what exceeds its fair share while another process waits. A process that stops
    renewing (killed, hung) loses its slots `LEASE_S` after its last renewal.
    """

    def __init__(
        self,
        db: Database,
        account: str,
        limit: int,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lease_s: float = LEASE_S,
        heartbeat_s: float | None = HEARTBEAT_S,
        holder: str | None = None,
    ) -> None:
        self.limit = max(1, limit)
        self.chunk = max(1, self.limit // CHUNKS)
        self.holder = holder or holder_name()
        self.held = 0
        """Slots the database counts for this process."""
        self.in_use = 0
        """Requests of this process holding a slot."""
        self.share = self.limit
        """This process's fair share, as of its last round trip."""
        self.trips = 0
        self._db = db
        self._account = account
        self._wall = wall
        self._sleep = sleep
        self._lease_s = lease_s
        self._heartbeat_s = heartbeat_s  # None: no heartbeat thread (tests renew by hand)
        self._waiting = 0
        self._last_trip = -float("inf")
        self._state = threading.Lock()
        self._trip_lock = threading.RLock()  # `_try` renews while holding it
        self._wake = threading.Event()
        self._beating: threading.Thread | None = None

    def _admit(self) -> bool:
        """Take a held slot for one request, within the fair share (call with `_state` held)."""
        if self.in_use < min(self.held, self.share):
            self.in_use += 1
            return True
        return False

    def _target(self) -> tuple[int, int]:
        """(slots to hold, slots wanted): what is in use, what waits, and a chunk to spare, within the
        fair share; never fewer than are in use (call with `_state` held)."""
        wanted = self.in_use + self._waiting
        if wanted == 0:
            return 0, 0
        spare = wanted + self.chunk if wanted > self.held else min(self.held, wanted + self.chunk)
        return max(self.in_use, min(spare, self.share, self.limit)), wanted

    def renew(self) -> None:
        """One round trip: hold what `_target` says, renew the lease, learn the fair share."""
        with self._trip_lock:
            with self._state:
                target, wanted = self._target()
            now = self._wall()
            held = hold_slots(
                self._db,
                self._account,
                self.holder,
                target=target,
                wanted=wanted,
                limit=self.limit,
                now=now,
                lease_s=self._lease_s,
            )
            self.trips += 1
            self._last_trip = now
            with self._state:
                self.held, self.share = held.slots, max(held.share, 1)
                start = self._heartbeat_s is not None and self.held > 0 and self._beating is None
                if start:
                    self._beating = threading.Thread(target=self._beat, name="shared-slots", daemon=True)
            if start and self._beating is not None:
                self._beating.start()

    def _try(self, first: bool) -> bool:
        """Admit one request, going to the database when no held slot is free (at most every
        `MIN_SYNC_S` after the first try)."""
        with self._state:
            if self._admit():
                return True
        with self._trip_lock:  # another request's round trip may have brought the slot
            with self._state:
                if self._admit():
                    return True
            if first or self._wall() - self._last_trip >= MIN_SYNC_S:
                self.renew()
        with self._state:
            return self._admit()

    async def acquire(self) -> None:
        """Wait (at most `MAX_WAIT_S`) for one of the account's slots."""
        with self._state:
            if self._admit():
                return
            self._waiting += 1
        try:
            waited = 0.0
            while not await self._attempt(waited == 0.0):
                if waited >= MAX_WAIT_S:
                    raise RateLimited(
                        f"no slot of the shared limit of {self.limit} concurrent requests "
                        f"in {MAX_WAIT_S:.0f}s"
                    )
                await self._sleep(MIN_SYNC_S)
                waited += MIN_SYNC_S
        finally:
            with self._state:
                self._waiting -= 1

    async def _attempt(self, first: bool) -> bool:
        """`_try` in a thread; a cancelled caller gives back the slot the thread may still take."""
        attempt = asyncio.ensure_future(asyncio.to_thread(self._try, first))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(self._undo)
            raise

    def _undo(self, attempt: asyncio.Future[bool]) -> None:
        if not attempt.cancelled() and attempt.exception() is None and attempt.result():
            self.release()

    def release(self) -> None:
        """Give a slot back locally; over the fair share, the heartbeat gives it back to the others now."""
        with self._state:
            self.in_use -= 1
            over = self.held > self.share
        if over:
            self._wake.set()

    def _beat(self) -> None:
        """Renew the lease every `heartbeat_s` (sooner when woken) until this process holds nothing."""
        while True:
            self._wake.wait(self._heartbeat_s)
            self._wake.clear()
            try:
                self.renew()
            except Exception as exc:  # the next beat retries, well before the lease ends
                log.warning("renewing the concurrency lease of %s failed: %s", self._account, exc)
                if self._wall() - self._last_trip > self._lease_s:
                    with self._state:  # the lease has expired: the slots may be another's now
                        self.held = 0
            with self._state:
                if self.held == 0 and self.in_use == 0 and self._waiting == 0:
                    self._beating = None
                    return
            time.sleep(MIN_SYNC_S)
