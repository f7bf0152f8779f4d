"""The per-run cost cap: each call's estimated cost reserved before it is sent, against the real cost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from monitor.core.prices import PriceConfig
from monitor.evals.graders.custom import LLMJudgeGrader
from monitor.pipeline.run.sample import WorkItem
from monitor.providers import pricing

if TYPE_CHECKING:
    from monitor.evals.judge import Judge
    from monitor.evals.loader import SuiteSpec

_SLACK = 1e-12
"""Float rounding: a run exactly at its cap may still send."""


class CostCap:
    """A run's cap in USD: a sample is sent only while the run's real cost, the estimates of the samples
    in flight and its own estimate (its answer and its judges' verdicts) stay within the cap, so the
    run stops before it would pass it, whatever the estimate made before the run said (one event loop:
    the run's)."""

    def __init__(
        self,
        limit: float,
        price: PriceConfig | None,
        params: dict[str, Any],
        spec: SuiteSpec,
        judge: Judge | None,
        judges: dict[str, Judge],
    ) -> None:
        self.limit = limit
        self.in_flight = 0.0
        self._calls = 0
        self._freed = asyncio.Event()
        self._price = price
        self._output_tokens = pricing.output_tokens_for(params)
        self._judged: list[tuple[str, Judge]] = []
        for grader in spec.graders:
            if isinstance(grader, LLMJudgeGrader):
                chosen = judges.get(grader.model or "") or judge
                if chosen is not None:
                    self._judged.append((grader.rubric, chosen))

    def estimate(self, item: WorkItem) -> float:
        """The item's answer at most its max_tokens, plus an uncached verdict of each of its judges."""
        input_tokens = max(item.tokens - self._output_tokens, 0)
        answer = pricing.call_cost(self._price, input_tokens, self._output_tokens) or 0.0
        verdicts = sum(
            judge.estimated_cost_usd(rubric, item.sample, self._output_tokens)
            for rubric, judge in self._judged
        )
        return answer + verdicts

    async def reserve(self, item: WorkItem, spent: Callable[[], float | None]) -> float | None:
        """Reserve the item's estimate and return it, once the run's real cost (`spent()`), what is in
        flight and this estimate fit the cap, waiting for calls in flight to end (their real cost is
        usually below their estimate); None when they do not fit with nothing in flight."""
        estimate = self.estimate(item)
        while (spent() or 0.0) + self.in_flight + estimate > self.limit + _SLACK:
            if not self._calls:
                return None
            self._freed.clear()
            await self._freed.wait()
        self.in_flight += estimate
        self._calls += 1
        return estimate

    def release(self, estimate: float) -> None:
        """The item is done: its real cost, now in the run's, replaces its reservation."""
        self.in_flight = max(self.in_flight - estimate, 0.0)
        self._calls -= 1
        self._freed.set()
