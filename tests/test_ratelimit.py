"""Rate limits: the RPM bucket spaces requests, the TPM bucket meters tokens, a 429 pauses everyone."""

from __future__ import annotations

import asyncio

import pytest

from monitor.providers.limits import ProviderLimiter, TokenBucket
from tests.fake_clock import FakeClock


def test_rpm_bucket_spaces_requests_at_the_configured_rate() -> None:
    clock = FakeClock()

    async def go() -> None:
        bucket = TokenBucket(1200, capacity=1.0, clock=clock, sleep=clock.sleep)  # 20 per second
        for _ in range(11):
            await bucket.acquire()

    asyncio.run(go())
    assert clock.waits == pytest.approx([0.05] * 10)  # the first at once, then one every 50 ms


def test_rpm_bucket_counts_time_that_passed_between_requests() -> None:
    clock = FakeClock()

    async def go() -> None:
        bucket = TokenBucket(1200, capacity=1.0, clock=clock, sleep=clock.sleep)
        await bucket.acquire()
        clock.now += 0.03  # the caller spent 30 ms elsewhere
        await bucket.acquire()

    asyncio.run(go())
    assert clock.waits == pytest.approx([0.02])


def test_concurrency_slots_bound_requests_in_flight() -> None:
    limiter = ProviderLimiter(3)
    in_flight = 0
    peak = 0

    async def one() -> None:
        nonlocal in_flight, peak
        async with limiter.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    async def go() -> None:
        await asyncio.gather(*(one() for _ in range(20)))

    asyncio.run(go())
    assert peak == 3


def test_tpm_bucket_delays_calls_beyond_the_token_rate() -> None:
    clock = FakeClock()

    async def go() -> None:
        # 1,000 tokens/s, bucket of 10,000
        limiter = ProviderLimiter(10, tokens_per_minute=60_000, clock=clock, sleep=clock.sleep)
        for _ in range(3):
            async with limiter.slot(5_000):
                pass

    asyncio.run(go())
    assert clock.waits == pytest.approx([5.0])  # 15,000 tokens: 10,000 at once, then 5 s for the rest


def test_settling_returns_unused_tokens_to_the_bucket() -> None:
    clock = FakeClock()
    limiter = ProviderLimiter(1, tokens_per_minute=60_000, clock=clock, sleep=clock.sleep)
    assert limiter.tokens is not None

    async def go() -> None:
        async with limiter.slot(8_000):
            pass

    asyncio.run(go())
    assert limiter.tokens.tokens == pytest.approx(2_000)
    limiter.settle_tokens(8_000, 1_000)
    assert limiter.tokens.tokens == pytest.approx(9_000)


def test_a_429_pause_holds_every_new_request() -> None:
    clock = FakeClock()
    let_through: list[float] = []

    async def one(limiter: ProviderLimiter) -> None:
        async with limiter.slot():
            let_through.append(clock())

    async def go() -> None:
        limiter = ProviderLimiter(4, clock=clock, sleep=clock.sleep)
        limiter.pause(0.3)
        await asyncio.gather(*(one(limiter) for _ in range(3)))

    asyncio.run(go())
    assert clock.waits == pytest.approx([0.3])
    assert let_through == pytest.approx([0.3] * 3)
