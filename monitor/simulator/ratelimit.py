"""A token bucket that enforces the simulator's requests-per-minute limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rpm / 60` tokens per second, burst `max(1, rpm / 60)`; `take()` says how long to wait if empty.

    `clock` gives monotonic seconds (injectable so tests can drive a fake one).
    """

    def __init__(self, rpm: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rpm <= 0:
            raise ValueError(f"rpm_limit must be > 0, not {rpm}")
        self.rate = rpm / 60.0
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self._clock = clock
        self.stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> float | None:
        """Take one token: None if granted, else the seconds until one is available."""
        with self._lock:
            now = self._clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return None
            return (1.0 - self.tokens) / self.rate

    def remaining(self) -> int:
        return int(self.tokens)
