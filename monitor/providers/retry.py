"""Retry policy for provider calls: exponential backoff with jitter, honouring retry-after, bounded."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from monitor.core.config import ProviderConfig
from monitor.providers.base import ProviderError

T = TypeVar("T")

BASE_DELAY_S = 0.5
MAX_DELAY_S = 30.0
# Headroom, on top of every attempt's timeout, for the backoff sleeps of one sample.
DEADLINE_SLACK_S = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one sample's call.

    `max_retries` retries after the first attempt; `deadline_s` bounds the whole sample (attempts and
    sleeps); a retry that would start past the deadline is not made.
    """

    max_retries: int = 4
    base_delay_s: float = BASE_DELAY_S
    max_delay_s: float = MAX_DELAY_S
    deadline_s: float = 300.0

    @classmethod
    def for_provider(cls, cfg: ProviderConfig) -> RetryPolicy:
        return cls(
            max_retries=cfg.max_retries,
            deadline_s=cfg.timeout_s * (cfg.max_retries + 1) + DEADLINE_SLACK_S,
        )

    def delay(self, retry_index: int, error: ProviderError) -> float:
        """Sleep before retry number `retry_index` (0-based): equal jitter, never below retry-after."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**retry_index))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.max_delay_s * 4))
        return delay


class GaveUp(Exception):
    """The last error of a call that was not retried further, with the number of attempts made."""

    def __init__(self, error: ProviderError, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[T, int]:
    """Run `call` until it succeeds; return (result, attempts). Raise GaveUp on a non-retryable error,
    after max_retries retries, when the next retry would pass the deadline, or when `should_stop()`."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call(), attempt
        except ProviderError as error:
            if not error.retryable or attempt > policy.max_retries:
                raise GaveUp(error, attempt) from error
            delay = policy.delay(attempt - 1, error)
            if time.monotonic() - started + delay > policy.deadline_s or (should_stop and should_stop()):
                raise GaveUp(error, attempt) from error
            await asyncio.sleep(delay)
