"""A run's sample caller after its batch ended: batched answers at the batch price, the rest sync."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.core.prices import PriceConfig
from monitor.pipeline.run.sample import SampleCaller, WorkItem
from monitor.providers.base import Completion


class BatchAnswers:
    """The answers a run's ended batches gave, by (sample key, repeat), and the price they were bought at."""

    def __init__(self, answers: Mapping[tuple[str, int], Completion], price: PriceConfig | None) -> None:
        self.answers = dict(answers)
        self.price = price


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
    (errored, expired or missing from the batch) goes through the normal sync call at the full price."""

    def __init__(self, *args: Any, batch: BatchAnswers, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        self.from_batch = _FromBatch(self, batch)

    async def row(self, item: WorkItem) -> dict[str, Any] | None:
        if (item.sample.key, item.repeat) not in self.batch.answers:
            return await super().row(item)
        row = await self.from_batch.row(item)
        if row is not None:
            row["latency_ms"] = None
        return row
