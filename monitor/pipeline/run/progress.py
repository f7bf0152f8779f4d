"""Live counters of a run while it executes, for progress bars and the cost limit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RunProgress:
    """Live counters of a run for progress bars (`done` includes samples stored by earlier attempts)."""

    run_id: int
    model_key: str
    suite: str
    total: int
    done: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    score_sum: float = 0.0
    scored: int = 0
    cost_usd: float | None = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def score(self) -> float | None:
        return self.score_sum / self.scored if self.scored else None

    def add(self, score: float | None, passed: bool | None, errored: bool, cost: float | None) -> None:
        self.done += 1
        if errored:
            self.errored += 1
        elif passed:
            self.passed += 1
        else:
            self.failed += 1
        if score is not None:
            self.score_sum += score
            self.scored += 1
        self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost
