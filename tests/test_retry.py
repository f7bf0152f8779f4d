"""The one retry policy: bounded attempts, an overall deadline, retry-after honoured, errors classified."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from monitor.core.config import ProviderConfig
from monitor.providers.base import AuthError, Overloaded, ProviderError, RateLimited
from monitor.providers.retry import GaveUp, RetryPolicy, call_with_retries
from tests.fake_clock import FakeClock


class Failing:
    """An async call raising the given errors in turn, then answering "ok"; counts its calls."""

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(
    call: Failing, policy: RetryPolicy, clock: FakeClock, should_stop: Callable[[], bool] | None = None
) -> tuple[str, int]:
    return asyncio.run(
        call_with_retries(call, policy, should_stop=should_stop, sleep=clock.sleep, clock=clock)
    )


def test_a_retry_after_is_waited_exactly_and_the_call_succeeds() -> None:
    clock = FakeClock()
    call = Failing(RateLimited("slow", retry_after=1.5), RateLimited("slow", retry_after=0.25))
    assert run(call, RetryPolicy(max_retries=4), clock) == ("ok", 3)
    assert clock.waits == [1.5, 0.25]


def test_backoff_without_retry_after_is_jittered_exponential_and_bounded() -> None:
    clock = FakeClock()
    call = Failing(*(Overloaded("busy") for _ in range(10)))
    with pytest.raises(GaveUp) as gave_up:
        run(call, RetryPolicy(max_retries=3, base_delay_s=1.0, max_delay_s=3.0, deadline_s=1e9), clock)
    assert gave_up.value.attempts == call.calls == 4
    assert isinstance(gave_up.value.error, Overloaded)
    for wait, ceiling in zip(clock.waits, (1.0, 2.0, 3.0), strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_a_non_retryable_error_is_not_retried() -> None:
    clock = FakeClock()
    call = Failing(AuthError("bad key", status=401))
    with pytest.raises(GaveUp) as gave_up:
        run(call, RetryPolicy(max_retries=5), clock)
    assert (gave_up.value.attempts, call.calls, clock.waits) == (1, 1, [])


def test_no_retry_starts_past_the_overall_deadline() -> None:
    clock = FakeClock()
    call = Failing(*(RateLimited("slow", retry_after=4.0) for _ in range(10)))
    with pytest.raises(GaveUp) as gave_up:
        run(call, RetryPolicy(max_retries=10, deadline_s=10.0), clock)
    assert clock.waits == [4.0, 4.0]  # a third wait would end at 12 s, past the 10 s deadline
    assert gave_up.value.attempts == 3


def test_a_retry_after_beyond_the_cap_ends_the_retries() -> None:
    clock = FakeClock()
    call = Failing(RateLimited("daily quota", retry_after=3600.0))
    with pytest.raises(GaveUp):
        run(call, RetryPolicy(max_retries=5, deadline_s=1e9), clock)
    assert (call.calls, clock.waits) == (1, [])


def test_should_stop_cuts_the_retries_short() -> None:
    clock = FakeClock()
    call = Failing(Overloaded("busy"), Overloaded("busy"))
    with pytest.raises(GaveUp) as gave_up:
        run(call, RetryPolicy(max_retries=5), clock, should_stop=lambda: True)
    assert (gave_up.value.attempts, clock.waits) == (1, [])


def test_a_provider_policy_bounds_its_deadline_by_every_attempts_timeout() -> None:
    policy = RetryPolicy.for_provider(ProviderConfig(type="openai", timeout_s=20, max_retries=2))
    assert policy.max_retries == 2
    assert policy.deadline_s == pytest.approx(20 * 3 + 60)
