"""The one retry policy of every provider call (runs, polls, judge): bounded, jittered, retry-after kept."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception

from monitor.core.config import ProviderConfig
from monitor.providers.base import ProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")

BASE_DELAY_S = 0.5
MAX_DELAY_S = 30.0
RETRY_AFTER_CAP_S = 120.0
"""The longest retry-after worth waiting for; a longer one (a daily quota, say) ends the retries."""
DEADLINE_SLACK_S = 60.0
"""Headroom, on top of every attempt's timeout, for the backoff sleeps of one call."""
LIST_WINDOW_S = 60.0
"""A model list starts no retry later than this (or twice its timeout) after it began."""

Clock = Callable[[], float]


def is_retryable(error: BaseException) -> bool:
    """Whether retrying can help: the adapters classify each provider's failures into typed errors."""
    return isinstance(error, ProviderError) and error.retryable


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one call.

    `max_retries` retries after the first attempt; `deadline_s` bounds the whole call (attempts and
    sleeps); a retry that would start past the deadline, or that a retry-after over
    `retry_after_cap_s` asks to put off, is not made.
    """

    max_retries: int = 4
    deadline_s: float = 300.0
    base_delay_s: float = BASE_DELAY_S
    max_delay_s: float = MAX_DELAY_S
    retry_after_cap_s: float = RETRY_AFTER_CAP_S

    @classmethod
    def for_provider(cls, cfg: ProviderConfig) -> RetryPolicy:
        """A chat call of `cfg`'s provider: its max_retries, a deadline covering every attempt's timeout."""
        return cls.for_calls(cfg.max_retries, cfg.timeout_s)

    @classmethod
    def for_calls(cls, max_retries: int, timeout_s: float) -> RetryPolicy:
        """`max_retries` retries of calls that each time out after `timeout_s`."""
        return cls(max_retries=max_retries, deadline_s=timeout_s * (max_retries + 1) + DEADLINE_SLACK_S)

    def delay(self, retry_index: int, error: BaseException) -> float:
        """Sleep before retry number `retry_index` (0-based): the retry-after when the provider gave
        one (infinite past the cap: do not retry), else exponential backoff with equal jitter."""
        retry_after = error.retry_after if isinstance(error, ProviderError) else None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_cap_s else math.inf
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**retry_index))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def list_deadline(timeout_s: float) -> float:
    """The `time.monotonic()` after which a model list starts no new retry: twice the timeout, >= 60 s."""
    return time.monotonic() + max(2.0 * timeout_s, LIST_WINDOW_S)


class GaveUp(Exception):
    """The last error of a call that was not retried further, with the number of attempts made."""

    def __init__(self, error: ProviderError, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


class _Stop:
    """tenacity's stop rule: out of retries, past the deadline with the coming sleep, or told to stop.

    tenacity >= 8.3 computes the wait before asking the stop rule, so `upcoming_sleep` is known here.
    """

    def __init__(
        self, policy: RetryPolicy, deadline: float, clock: Clock, should_stop: Callable[[], bool] | None
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.clock = clock
        self.should_stop = should_stop

    def __call__(self, state: RetryCallState) -> bool:
        if state.attempt_number > self.policy.max_retries or math.isinf(state.upcoming_sleep):
            return True
        if self.clock() + state.upcoming_sleep > self.deadline:
            return True
        return self.should_stop is not None and self.should_stop()


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """tenacity's wait rule: the policy's delay for the error just raised."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return policy.delay(state.attempt_number - 1, error) if error is not None else 0.0

    return wait


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    should_stop: Callable[[], bool] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> tuple[T, int]:
    """Run `call` until it succeeds; return (result, attempts). Raise GaveUp on a non-retryable error,
    after max_retries retries, when the next retry would pass the deadline, or when `should_stop()`."""
    retrying = AsyncRetrying(
        sleep=sleep,
        stop=_Stop(policy, clock() + policy.deadline_s, clock, should_stop),
        wait=_wait(policy),
        retry=retry_if_exception(is_retryable),
        reraise=True,
    )
    attempts = 0

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return await call()

    try:
        return await retrying(attempt), attempts
    except ProviderError as error:
        raise GaveUp(error, attempts) from error


def with_retries(
    call: Callable[[], T],
    *,
    max_retries: int,
    deadline: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run the blocking `call` under the same policy, at most `max_retries` retries before `deadline`
    (a `time.monotonic()` value shared by every page of a list); raise the last error when it ends."""

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        kind = getattr(error, "kind", type(error).__name__)
        retry, wait = state.attempt_number, state.upcoming_sleep
        log.info("%s failed (%s); retry %d/%d in %.2fs", what, kind, retry, max_retries, wait)

    policy = RetryPolicy(max_retries=max_retries)
    retrying = Retrying(
        sleep=sleep,
        stop=_Stop(policy, deadline, time.monotonic, None),
        wait=_wait(policy),
        retry=retry_if_exception(is_retryable),
        before_sleep=note,
        reraise=True,
    )
    return retrying(call)
