"""The simulator's batch jobs in memory: their items, when each item is due by the injected clock,
expiry at the end of the completion window, cancellation, and the seeded partial-failure draws."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

DAY_S = 86400.0


@dataclass(frozen=True)
class BatchOptions:
    """How batches behave; set by the script keys and Simulator arguments `batch_*`."""

    delay_s: float = 0.0
    """Seconds from creation until the last item is answered; item i of n is due at delay * (i+1) / n."""
    item_failure_rate: float = 0.0
    """The share of items answered with a server error instead of the model's answer (seeded draws)."""
    window_s: float = DAY_S
    """The completion window ("24h"); items not due by its end expire (delay > window: partial expiry)."""

    def __post_init__(self) -> None:
        if self.delay_s < 0:
            raise ValueError(f"batch_delay_s must be >= 0, not {self.delay_s}")
        if not 0.0 <= self.item_failure_rate <= 1.0:
            raise ValueError(f"batch_item_failure_rate must be between 0 and 1, not {self.item_failure_rate}")
        if self.window_s <= 0:
            raise ValueError(f"batch_window_s must be > 0, not {self.window_s}")


@dataclass
class Item:
    """One request of a batch and, once settled, its outcome."""

    custom_id: str
    body: Any
    state: str = "pending"
    """pending, answered, expired or cancelled."""
    status_code: int = 0
    response: Any = None
    request_id: str = ""


@dataclass
class Job:
    """One batch: its items in input order and the provider's own fields in `info`."""

    id: str
    provider: str
    created_at: float
    items: list[Item]
    options: BatchOptions
    info: dict[str, Any] = field(default_factory=dict)
    cancel_at: float | None = None
    ended_at: float | None = None
    end_state: str | None = None
    """completed, expired or cancelled once processing has ended."""
    seen: bool = False
    """Whether a status read has happened since creation (OpenAI shows `validating` until then)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def expires_at(self) -> float:
        return self.created_at + self.options.window_s

    def due(self, index: int) -> float:
        """When item `index` is answered: the items finish evenly over `delay_s`."""
        return self.created_at + self.options.delay_s * (index + 1) / max(1, len(self.items))

    def count(self, state: str) -> int:
        return sum(1 for item in self.items if item.state == state)


@dataclass(frozen=True)
class StoredFile:
    """An uploaded or produced file: its API object and its bytes."""

    object: dict[str, Any]
    content: bytes


Answer = Callable[[Item, bool], Awaitable[None]]
"""Answers one item in place; the flag says the failure draw picked it."""


class BatchStore:
    """Every batch and uploaded file of the server's life, newest last; a restarted client resumes by id."""

    def __init__(self, clock: Callable[[], float], options: BatchOptions, seed: int = 0) -> None:
        self.clock = clock
        self.options = options
        self.jobs: dict[str, Job] = {}
        self.files: dict[str, StoredFile] = {}
        self._random = random.Random(seed)

    def add(self, job: Job) -> Job:
        self.jobs[job.id] = job
        return job

    def newest_first(self, provider: str) -> list[Job]:
        return [job for job in reversed(self.jobs.values()) if job.provider == provider]

    async def settle(self, job: Job, answer: Answer) -> None:
        """Bring `job` up to the clock: answer the items now due, then expire or cancel the rest."""
        now = self.clock()
        async with job.lock:
            if job.ended_at is not None:
                return
            stop = min(now, job.expires_at, job.cancel_at if job.cancel_at is not None else now)
            due = [
                item
                for index, item in enumerate(job.items)
                if item.state == "pending" and job.due(index) <= stop
            ]
            draws = [self._random.random() < job.options.item_failure_rate for _ in due]
            await asyncio.gather(*(answer(item, failed) for item, failed in zip(due, draws, strict=True)))
            if job.cancel_at is not None:
                self._close(job, "cancelled", job.cancel_at)
            elif now >= job.expires_at:
                self._close(job, "expired", job.expires_at)
            elif job.count("pending") == 0:
                job.ended_at, job.end_state = job.due(len(job.items) - 1), "completed"

    @staticmethod
    def _close(job: Job, state: str, at: float) -> None:
        for item in job.items:
            if item.state == "pending":
                item.state = state
        job.ended_at, job.end_state = at, state
