"""One limiter per provider account: shared by runs and the judge, keyed by account, safe across loops."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.core.config import ProviderConfig
from monitor.evals.judge import Judge
from monitor.evals.spec import SampleSpec
from monitor.pipeline.run.work import execute_run
from monitor.providers import limits
from monitor.providers.base import ChatRequest, Completion, ModelInfo, RateLimited
from monitor.providers.limits import InProcessLimiters, ProviderLimiter, limiter_for
from monitor.simulator import Simulator
from tests.fake_clock import FakeClock
from tests.runner_helpers import KEY_ENV, manual_run, open_workspace, write_workspace

JUDGED_SUITE = """
name: tiny
description: Sums, graded by a number check and a judge on the same provider.
prompt:
  system: Reply with the number only.
  user: "{{ question }}"
params: {temperature: 0, max_tokens: 16}
graders:
  - {type: numeric}
  - {type: llm_judge, rubric: "The reply is the correct sum.", model: "sim:gpt-sim-mini"}
samples_files: [tiny.jsonl]
"""


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own registry, so limiters never leak between tests of one process."""
    monkeypatch.setattr(limits, "LIMITERS", InProcessLimiters())
    monkeypatch.setenv(KEY_ENV, "sim-key")


def cfg(**changes: object) -> ProviderConfig:
    values: dict[str, object] = {"type": "openai", "base_url": "https://api.example/v1", "api_key_env": "K1"}
    values.update(changes)
    return ProviderConfig.model_validate(values)


def test_callers_of_one_account_get_one_limiter() -> None:
    first = limiter_for(cfg())
    assert limiter_for(cfg(base_url="https://api.example/v1/", include=["gpt-*"])) is first


def test_another_key_variable_url_or_type_is_another_account() -> None:
    first = limiter_for(cfg())
    others = [
        limiter_for(cfg(api_key_env="K2")),
        limiter_for(cfg(base_url="https://other.example/v1")),
        limiter_for(cfg(type="openai-compatible")),
    ]
    assert len({id(first), *map(id, others)}) == 4


def test_changed_limits_of_an_account_give_a_limiter_with_the_new_limits() -> None:
    first = limiter_for(cfg(max_concurrency=2))
    second = limiter_for(cfg(max_concurrency=5))
    assert second is not first
    assert isinstance(second, ProviderLimiter) and second.max_concurrency == 5
    assert limiter_for(cfg(max_concurrency=5)) is second


def test_a_limiter_serves_one_event_loop_after_another() -> None:
    limiter = ProviderLimiter(1)
    peaks: list[int] = []

    async def contend() -> None:
        in_flight = 0
        peak = 0

        async def one() -> None:
            nonlocal in_flight, peak
            async with limiter.slot():
                in_flight += 1
                peak = max(peak, in_flight)
                await asyncio.sleep(0)
                in_flight -= 1

        await asyncio.gather(*(one() for _ in range(5)))
        peaks.append(peak)

    asyncio.run(contend())
    asyncio.run(contend())  # an asyncio.Semaphore bound to the first loop would fail here
    assert peaks == [1, 1]


def test_loops_in_two_threads_share_the_slots() -> None:
    limiter = ProviderLimiter(1)
    lock = threading.Lock()
    in_flight = 0
    peak = 0
    done = 0

    async def calls() -> None:
        async def one() -> None:
            nonlocal in_flight, peak, done
            async with limiter.slot():
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                await asyncio.sleep(0.001)
                with lock:
                    in_flight -= 1
                    done += 1

        await asyncio.gather(*(one() for _ in range(20)))

    threads = [threading.Thread(target=asyncio.run, args=(calls(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (peak, done) == (1, 40)


def test_a_cancelled_waiter_does_not_lose_a_slot() -> None:
    limiter = ProviderLimiter(1)

    async def go() -> None:
        await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        limiter.release()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        async with asyncio.timeout(5):
            await limiter.acquire()  # the slot came back

    asyncio.run(go())


class OneReply:
    """A provider answering every request with a judge verdict (or a 429 first); counts requests."""

    name = "one-reply"

    def __init__(self, *, rate_limited_first: bool = False) -> None:
        self.requests: list[ChatRequest] = []
        self.rate_limited_first = rate_limited_first

    def list_models(self) -> list[ModelInfo]:
        return []

    def is_chat_model(self, info: ModelInfo) -> bool:
        return True

    async def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        if self.rate_limited_first and len(self.requests) == 1:
            raise RateLimited("slow down", provider=self.name, status=429, retry_after=0.01)
        return Completion("fine\nSCORE: 1", "stop", 10, 5, 1.0)

    async def aclose(self) -> None:
        return None


def sample() -> SampleSpec:
    return SampleSpec("s1", [{"role": "user", "content": "2 + 2?"}], "4", None, None, {}, "t.jsonl:1")


def test_the_judge_waits_for_the_accounts_slot() -> None:
    limiter = ProviderLimiter(1)
    provider = OneReply()
    judge = Judge(provider, "m", "p:m", None, None, limiter=limiter)

    async def go() -> float:
        await limiter.acquire()  # a run's request holds the account's only slot
        scoring = asyncio.create_task(judge.score("r", sample(), "4"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert provider.requests == []  # the judge did not bypass the limit
        limiter.release()
        return (await scoring).score

    assert asyncio.run(go()) == 1.0
    assert len(provider.requests) == 1


def test_the_judges_429_pauses_the_whole_account() -> None:
    clock = FakeClock()
    limiter = ProviderLimiter(4, tokens_per_minute=600_000, clock=clock, sleep=clock.sleep)
    provider = OneReply(rate_limited_first=True)
    judge = Judge(provider, "m", "p:m", None, None, limiter=limiter)

    async def go() -> None:
        await judge.score("r", sample(), "4")

    asyncio.run(go())
    assert len(provider.requests) == 2
    assert clock.waits == pytest.approx([0.01])  # the retry waited out the pause the 429 put on the account
    assert limiter.tokens is not None and limiter.tokens.tokens < limiter.tokens.capacity  # tokens metered


def test_two_runs_and_their_judge_share_the_accounts_concurrency(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator()
    config_path = write_workspace(tmp_path, sim.base_url, samples=4, provider="max_concurrency = 1\n")
    (tmp_path / "evals" / "tiny.yaml").write_text(textwrap.dedent(JUDGED_SUITE))
    config, db, spec = open_workspace(config_path)
    first, worker = manual_run(db, config, spec, model_id="gpt-sim-base")
    second, _ = manual_run(db, config, spec, model_id="gpt-sim-mini")

    async def both() -> list[str]:
        summaries = await asyncio.gather(
            execute_run(db, config, first, worker_id=worker, spec=spec),
            execute_run(db, config, second, worker_id=worker, spec=spec),
        )
        return [s.status for s in summaries]

    assert asyncio.run(both()) == ["done", "done"]
    stats = sim.stats()
    assert stats["requests"] > 8  # 8 answers plus the judge's verdicts
    assert stats["peak_concurrency"] == 1


def test_a_rate_limited_model_list_page_pauses_every_call_of_the_account() -> None:
    clock = FakeClock()
    limiter = ProviderLimiter(4, clock=clock, sleep=clock.sleep)

    def page() -> None:
        raise RateLimited("slow down", retry_after=7.0)

    with pytest.raises(RateLimited):
        limits.limited_list_call(limiter, page)
    asyncio.run(limiter.acquire())
    assert clock.waits == [7.0]


def test_a_model_list_page_waits_out_a_pause_a_run_started() -> None:
    clock = FakeClock()
    blocked: list[float] = []
    limiter = ProviderLimiter(4, clock=clock, sleep=clock.sleep, block=blocked.append)
    limiter.pause(3.0)
    assert limits.limited_list_call(limiter, lambda: "page") == "page"
    assert blocked == [3.0]


def test_listing_models_spends_the_accounts_request_budget(simulator: Simulator) -> None:
    from monitor.providers.registry import get_provider

    clock = FakeClock()
    limits.LIMITERS = InProcessLimiters(clock=clock, sleep=clock.sleep)
    config = cfg(base_url=f"{simulator.base_url}/v1", api_key_env=KEY_ENV, requests_per_minute=60)
    provider = get_provider("oa", config)
    try:
        provider.list_models()
    finally:
        asyncio.run(provider.aclose())
    limiter = limiter_for(config)
    assert isinstance(limiter, ProviderLimiter) and limiter.requests is not None
    assert limiter.requests.tokens == pytest.approx(0.0)
