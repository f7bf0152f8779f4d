"""A run's sample caller after its batch ended: batched answers at the batch price, the rest sync."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitor.core.prices import PriceConfig
from monitor.pipeline.run.cap import CostCap
from monitor.pipeline.run.sample import SampleCaller, WorkItem
from monitor.providers import pricing
from monitor.providers.base import Completion


class BatchAnswers:
    """The answers a run's ended batches gave, by (sample key, repeat), and the price they were bought at;
    with the run's per-run `cap`, its `params` and `spent_usd`, what the run cost before any re-send (its
    stored results and the batch answers not stored yet: bought already)."""

    def __init__(
        self,
        answers: Mapping[tuple[str, int], Completion],
        price: PriceConfig | None,
        *,
        cap: float | None = None,
        params: Mapping[str, Any] | None = None,
        spent_usd: float = 0.0,
    ) -> None:
        self.answers = dict(answers)
        self.price = price
        self.cap = cap
        self.params = dict(params or {})
        self.spent_usd = spent_usd

    def answered_first(self, keys: Sequence[str], repeat: int) -> list[str]:
        """Sample keys in the order given, those the batch answered for every repeat first: their paid
        answers are then stored before any re-send can hit the per-run cap and fail the run."""
        answered = [key for key in keys if all((key, r) in self.answers for r in range(repeat))]
        done = set(answered)
        return answered + [key for key in keys if key not in done]

    def cost(self, key: tuple[str, int]) -> float:
        """What the batch answer for `key` cost at the batch price (0.0 when unknown)."""
        answer = self.answers[key]
        return (
            pricing.call_cost(
                self.price,
                answer.input_tokens,
                answer.output_tokens,
                cached_input_tokens=answer.cached_input_tokens,
                cache_write_tokens=answer.cache_write_tokens,
            )
            or 0.0
        )


class _FromBatch(SampleCaller):
    """The run's own caller (same graders, judge, stop and fatal hooks) answering from the batch."""

    def __init__(self, base: SampleCaller, batch: BatchAnswers) -> None:
        self.__dict__.update(vars(base))
        self.price = batch.price
        self.batch = batch

    async def _conversation(self, item: WorkItem) -> tuple[Completion, int]:
        return self.batch.answers[(item.sample.key, item.repeat)], 1


class BatchCaller(SampleCaller):
    """Rows from the batch's answers where it has one (graded and stored exactly like a sync answer, at
    the batch price, with no latency: one item of a batch has none of its own); every other item
    (errored, expired or missing from the batch) goes through the normal sync call at the full price,
    reserved first against the run's per-run cap like any sync sample: one that does not fit the cap
    (the run's cost so far, the batch's answers included, and the re-sends in flight) fails the run at
    the cost limit instead of being sent."""

    def __init__(self, *args: Any, batch: BatchAnswers, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        self.from_batch = _FromBatch(self, batch)
        self.spent = batch.spent_usd
        self.cap = (
            None
            if batch.cap is None
            else CostCap(batch.cap, self.price, batch.params, self.spec, self.judge, self.judges)
        )

    async def row(self, item: WorkItem) -> dict[str, Any] | None:
        key = (item.sample.key, item.repeat)
        if key not in self.batch.answers:
            return await self._resend(item)
        row = await self.from_batch.row(item)
        if row is not None:
            row["latency_ms"] = None
            self.spent += max((row["cost_usd"] or 0.0) - self.batch.cost(key), 0.0)  # its verdicts
        return row

    async def _resend(self, item: WorkItem) -> dict[str, Any] | None:
        """The sync call of an item the batch did not answer, within the per-run cap."""
        if self.cap is None:
            return await super().row(item)
        held = await self.cap.reserve(item, lambda: self.spent)
        if held is None:  # the run's cost so far leaves no room for this one
            self.on_fatal(f"stopped at the cost limit {pricing.format_cost(self.cap.limit)}")
            return None
        try:
            row = await super().row(item)
            if row is not None:
                self.spent += row["cost_usd"] or 0.0
            return row
        finally:  # its real cost is in `spent` now
            self.cap.release(held)
