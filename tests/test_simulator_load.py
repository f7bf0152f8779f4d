"""The simulator sustains 500+ concurrent requests and reports them at GET /_sim/stats."""

from __future__ import annotations

import asyncio

import openai
import pytest
import requests

from monitor.simulator import SimModel, Simulator


@pytest.mark.slow
def test_600_concurrent_requests_all_succeed_with_peak_concurrency_over_500() -> None:
    async def scenario() -> tuple[list[str | None], dict[str, object]]:
        sim = Simulator(models=[SimModel("gpt-sim-load", latency_ms=1500, latency_jitter_ms=100)])
        await sim.start()
        try:
            async with openai.AsyncOpenAI(
                api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0, timeout=60
            ) as client:

                async def one(i: int) -> str | None:
                    done = await client.chat.completions.create(
                        model="gpt-sim-load", messages=[{"role": "user", "content": f"Request {i}: say hi."}]
                    )
                    return done.choices[0].message.content

                results = await asyncio.gather(*(one(i) for i in range(600)))
            return results, sim.stats()
        finally:
            await sim.stop()

    results, stats = asyncio.run(scenario())
    assert len(results) == 600 and all(results)
    assert stats["requests"] == 600 and stats["in_flight"] == 0
    assert stats["peak_concurrency"] >= 500  # type: ignore[operator]


def test_stats_endpoint_counts_requests_by_endpoint(simulator: Simulator) -> None:
    requests.get(simulator.base_url + "/v1/models", headers={"Authorization": "Bearer sim-key"}, timeout=30)
    requests.get(simulator.base_url + "/v1/models", headers={"Authorization": "Bearer wrong"}, timeout=30)
    stats = requests.get(simulator.base_url + "/_sim/stats", timeout=30).json()
    assert stats["requests"] == 2 and stats["by_endpoint"] == {"openai.models": 2}
    assert stats["polls"] == {"openai": 1, "anthropic": 0, "gemini": 0}
    assert stats == simulator.stats()
