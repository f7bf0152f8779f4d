"""Rate limits: the RPM bucket spaces requests, the TPM bucket meters tokens, a 429 pauses everyone."""

from __future__ import annotations

import asyncio
import time

from monitor.ratelimit import ProviderLimiter, TokenBucket


def test_rpm_bucket_spaces_requests_at_the_configured_rate() -> None:
    async def go() -> list[float]:
        bucket = TokenBucket(1200, capacity=1.0)  # 20 per second
        stamps = []
        for _ in range(11):
            await bucket.acquire()
            stamps.append(time.monotonic())
        return stamps

    stamps = asyncio.run(go())
    elapsed = stamps[-1] - stamps[0]
    assert 0.45 <= elapsed <= 0.7  # ten intervals of 50 ms


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
    async def go() -> float:
        limiter = ProviderLimiter(10, tokens_per_minute=60_000)  # 1,000 tokens/s, bucket of 10,000
        start = time.monotonic()
        for _ in range(3):
            async with limiter.slot(5_000):
                pass
        return time.monotonic() - start

    assert 4.0 <= asyncio.run(go()) <= 6.0  # 15,000 tokens: 10,000 at once, then 5 s for the rest


def test_settling_returns_unused_tokens_to_the_bucket() -> None:
    limiter = ProviderLimiter(1, tokens_per_minute=60_000)
    assert limiter.tokens is not None

    async def go() -> None:
        async with limiter.slot(8_000):
            pass

    asyncio.run(go())
    before = limiter.tokens.tokens
    limiter.settle_tokens(8_000, 1_000)
    assert limiter.tokens.tokens >= before + 6_900


def test_a_429_pause_holds_every_new_request() -> None:
    async def go() -> float:
        limiter = ProviderLimiter(4)
        limiter.pause(0.3)
        start = time.monotonic()
        async with limiter.slot():
            return time.monotonic() - start

    assert asyncio.run(go()) >= 0.28
