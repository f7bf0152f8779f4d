"""Execute a run's calls: a bounded pool of workers and one writer, all owned by one task group."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from monitor.core.config import Config
from monitor.pipeline.run.batch_caller import BatchAnswers, BatchCaller
from monitor.pipeline.run.cap import CostCap
from monitor.pipeline.run.persist import ResultWriter
from monitor.pipeline.run.progress import RunProgress
from monitor.pipeline.run.sample import SampleCaller, WorkItem, work_items
from monitor.pipeline.run.stopping import StopMonitor
from monitor.providers import pricing
from monitor.providers.base import Provider
from monitor.providers.limits import Limiter
from monitor.providers.retry import RetryPolicy
from monitor.store.db import Database
from monitor.store.tables import Run

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec

STOP_GRACE_S = 5.0


class RunExecution:
    """One run while it executes: its work, counters and halt flag; no task it starts outlives `execute`."""

    def __init__(
        self,
        db: Database,
        config: Config,
        run: Run,
        spec: SuiteSpec,
        provider: Provider,
        limiter: Limiter,
        *,
        worker_id: str,
        concurrency: int,
        progress: RunProgress,
        on_progress: Callable[[RunProgress], None] | None,
        max_cost_usd: float | None,
        judge: Any,
        judges: dict[str, Any],
        stopper: StopMonitor | None = None,
        batch: BatchAnswers | None = None,
    ) -> None:
        pcfg = config.providers[run.provider]
        self.spec = spec
        self.concurrency = concurrency
        self.progress = progress
        self.on_progress = on_progress
        self.max_cost_usd = max_cost_usd
        self.params: dict[str, Any] = {**(spec.params or {}), **(run.params or {})}
        self.model_id = run.model_id
        self.repeat = max(1, run.repeat)
        self.timeout_s = pcfg.timeout_s
        self.halt = asyncio.Event()
        self.fatal: str | None = None
        self.paused: str | None = None
        self.stopper = stopper
        self.cap = (
            None
            if max_cost_usd is None
            else CostCap(max_cost_usd, config.price_for(run.model_key), self.params, spec, judge, judges)
        )
        self.batch = batch
        caller = SampleCaller if batch is None else functools.partial(BatchCaller, batch=batch)
        self.caller = caller(
            spec,
            provider,
            limiter,
            RetryPolicy.for_provider(pcfg),
            run_id=run.id,
            price=config.price_for(run.model_key),
            timeout_s=pcfg.timeout_s,
            judge=judge,
            judges=judges,
            should_stop=self.halt.is_set,
            on_fatal=self.fail,
            outage_pause_s=pcfg.outage_pause_s,
            on_paused_too_long=self.stop_paused,
        )
        self.writer = ResultWriter(db, run.id, worker_id, on_flush=self._flushed)

    def fail(self, reason: str) -> None:
        """Fail the run with the first reason given and stop taking work."""
        if self.fatal is None:
            self.fatal = reason
            self.halt.set()

    def stop_paused(self, reason: str) -> None:
        """Stop the run, interrupted and resumable: its provider stayed unreachable past the pause bound."""
        if self.paused is None and self.fatal is None:
            self.paused = reason
            self.halt.set()

    def settled(self) -> bool:
        """Whether the sequential test has settled the verdict (the run stops early, complete)."""
        return self.stopper is not None and self.stopper.reason is not None

    def _flushed(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)

    async def _work(self, work: Iterator[WorkItem]) -> None:
        while not self.halt.is_set():
            item = next(work, None)
            if item is None:
                return
            held = 0.0 if self.cap is None else await self.cap.reserve(item, lambda: self.progress.cost_usd)
            if held is None:  # its real cost so far leaves no room for this one
                self.fail(f"stopped at the cost limit {pricing.format_cost(self.max_cost_usd)}")
                return
            try:
                row = await self.caller.row(item)
                if row is None:
                    continue
                await self.writer.put(row)
                self.progress.add(row["score"], row["passed"], row["error_kind"] is not None, row["cost_usd"])
            finally:  # its real cost is in the run's now
                if self.cap is not None:
                    self.cap.release(held)
            if self.stopper is not None and self.stopper.add(
                row["sample_key"], row["score"], row["error_kind"]
            ):
                self.halt.set()
            if (
                self.max_cost_usd is not None
                and self.progress.cost_usd is not None
                and self.progress.cost_usd >= self.max_cost_usd
            ):
                self.fail(f"stopped at the cost limit {pricing.format_cost(self.max_cost_usd)}")

    def _order(self) -> Sequence[str] | None:
        """The sample keys' order: the sequential test's, or a batch's answered samples first, else the
        suite's (None)."""
        if self.stopper is not None:
            return self.stopper.order
        if self.batch is not None:
            return self.batch.answered_first([s.key for s in self.spec.samples], self.repeat)
        return None

    async def execute(self, stored: set[tuple[str, int]], stop: asyncio.Event | None) -> str:
        """Run the pool to completion or until halted; return the final status.

        Every task started here (workers, writer, watchers) has ended when this returns or raises,
        cancelled included: a cancelled run sends nothing more and stores every row handed over.
        """
        work = work_items(
            self.spec,
            self.params,
            model_id=self.model_id,
            repeat=self.repeat,
            timeout_s=self.timeout_s,
            stored=stored,
            order=self._order(),
        )
        if self.settled():
            return "stopped"
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.writer.run(self.halt))
                relay = group.create_task(_relay(stop, self.halt)) if stop is not None else None
                workers = [group.create_task(self._work(work)) for _ in range(self.concurrency)]
                await self._supervise(group, workers)
                if relay is not None:
                    relay.cancel()
                await self.writer.close()
        except BaseExceptionGroup as errors:
            raise errors.exceptions[0] from None
        if self.writer.lost_claim:
            return "lost"
        if self.fatal is not None:
            return "failed"
        if self.settled():
            return "stopped"
        if self.halt.is_set() and self.progress.done < self.progress.total:
            return "interrupted"
        return "done"

    async def _supervise(self, group: asyncio.TaskGroup, workers: list[asyncio.Task[None]]) -> None:
        """Wait for the workers; once halted, give in-flight calls STOP_GRACE_S, then cancel the rest."""
        pool = group.create_task(asyncio.wait(workers))
        halted = group.create_task(self.halt.wait())
        await asyncio.wait({pool, halted}, return_when=asyncio.FIRST_COMPLETED)
        if not pool.done():
            await asyncio.wait({pool}, timeout=STOP_GRACE_S)
            for task in workers:
                task.cancel()
            await asyncio.wait(workers)
        halted.cancel()


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
