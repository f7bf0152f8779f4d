"""The account's circuit breaker: opens after a window of only outage errors, probes one call at a time."""

from __future__ import annotations

import asyncio

from monitor.providers.base import BadRequest, ConnectionFailed, Overloaded, RateLimited
from monitor.providers.breaker import PROBE_FIRST_S, CircuitBreaker
from tests.fake_clock import FakeClock


def _breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(clock=clock, sleep=clock.sleep, open_after_s=10.0)


def test_an_outage_error_starts_an_outage_but_the_breaker_opens_only_after_the_window() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    breaker.record(ConnectionFailed("refused"))
    assert breaker.in_outage and not breaker.is_open
    clock.now = 10.0
    assert breaker.is_open


def test_any_answer_ends_the_outage_even_an_error_the_provider_sent() -> None:
    for answer in (None, BadRequest("too long"), RateLimited("slow down")):
        breaker = _breaker(FakeClock())
        breaker.record(Overloaded("503"))
        breaker.record(answer)
        assert not breaker.in_outage


def test_a_closed_breaker_admits_at_once() -> None:
    clock = FakeClock()
    asyncio.run(_breaker(clock).admit())
    assert clock.waits == []


def test_an_open_breaker_lets_one_probe_through_at_growing_intervals() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    breaker.record(Overloaded("503"))
    clock.now = 10.0

    async def three_callers() -> list[float]:
        admitted: list[float] = []
        for _ in range(3):
            await breaker.admit()
            admitted.append(clock.now)
        return admitted

    assert asyncio.run(three_callers()) == [10.0, 10.0 + PROBE_FIRST_S, 10.0 + 3 * PROBE_FIRST_S]
