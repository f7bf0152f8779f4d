"""Early stopping of a run: its plan (random order, baseline run, level) and the live sequential test."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, update

from monitor.stats.estimate import mean_over_repeats
from monitor.stats.sequential import BettingEProcess, p_bound, sample_order, stop_level
from monitor.store.statuses import COMPLETED, result_errored
from monitor.store.tables import Result, Run

if TYPE_CHECKING:
    from monitor.core.config import Config
    from monitor.store.db import Database

# Per-sample scores of one run: answered repeats averaged, and the same with errored repeats as 0.
Scores = tuple[dict[str, float], dict[str, float]]


def sample_scores(rows: Iterable[tuple[str, float | None, str | None]]) -> Scores:
    """(answered mean, mean with errors as 0) per sample from (key, score, error_kind) rows, as the
    comparison computes them (monitor/pipeline/compare/pairing.py)."""
    answered: list[tuple[str, float]] = []
    failures: list[tuple[str, float]] = []
    for key, score, error_kind in rows:
        scored = None if result_errored(error_kind, score) else score
        failures.append((key, 0.0 if scored is None else float(scored)))
        if scored is not None:
            answered.append((key, float(scored)))
    return mean_over_repeats(answered), mean_over_repeats(failures)


@dataclass
class StopMonitor:
    """The sequential test while the run executes: it reads the samples in `order`, each once all its
    repeats are stored, and says when both e-processes (errors left out, errors as failures) reject at
    `level` in the same direction."""

    order: Sequence[str]
    repeat: int
    level: float
    baseline: Scores
    total: int
    _rows: dict[str, list[tuple[float | None, str | None]]] = field(default_factory=dict)
    _next: int = 0
    _answered: BettingEProcess = field(default_factory=BettingEProcess)
    _failures: BettingEProcess = field(default_factory=BettingEProcess)
    reason: str | None = None

    def add(self, key: str, score: float | None, error_kind: str | None) -> bool:
        """Take one stored result; True once the test has settled the verdict (the run can stop)."""
        self._rows.setdefault(key, []).append((score, error_kind))
        while self.reason is None and self._next < len(self.order):
            current = self.order[self._next]
            rows = self._rows.get(current, [])
            if len(rows) < self.repeat:
                break
            self._next += 1
            self._read(current, rows)
        return self.reason is not None

    def _read(self, key: str, rows: list[tuple[float | None, str | None]]) -> None:
        answered, failures = sample_scores((key, score, kind) for score, kind in rows)
        base_answered, base_failures = self.baseline
        if key in answered and key in base_answered:
            self._answered.update(answered[key] - base_answered[key])
        if key in base_failures:
            self._failures.update(failures[key] - base_failures[key])
        threshold = 1 / self.level
        if self._answered.max_e < threshold or self._failures.max_e < threshold:
            return
        direction = _direction(self._answered.mean)
        if direction is None or direction != _direction(self._failures.mean):
            return
        p = self._answered.p_value
        self.reason = (
            f"stopped after {self._next} of {self.total} samples: {direction} with {p_bound(p)} "
            f"(anytime-valid sequential test at {self.level:.3g})"
        )

    @property
    def read(self) -> int:
        """How many samples of the order the test has read (the stop point once stopped)."""
        return self._next


def _direction(mean: float) -> str | None:
    return "better" if mean > 0 else "worse" if mean < 0 else None


def _stoppable(run: Run) -> Select[int]:
    """Runs the run may stop against: complete, not themselves stopped early (two stopped runs cannot be
    compared), on the same suite version with the same repeat."""
    return select(Run.id).where(
        Run.id != run.id,
        Run.suite_id == run.suite_id,
        Run.status.in_(COMPLETED),
        Run.stopped_after.is_(None),
        Run.repeat == run.repeat,
    )


def _baseline_run(db: Database, config: Config, run: Run, base_name: str, chosen: int | None) -> int | None:
    """The run to stop against: `chosen` (the gate's baseline run) when given and stoppable, never
    another; without it the first configured baseline's latest stoppable run (the daemon's new-model
    runs: pipeline/compare, which pairs them later, comes after this stage and cannot be asked)."""
    with db.session() as session:
        if chosen is not None:
            found = session.scalar(_stoppable(run).where(Run.id == chosen))
            return None if found is None else int(found)
        for baseline in config.baseline.for_suite(base_name):
            provider, _, model_id = baseline.partition(":")
            if (provider, model_id) == (run.provider, run.model_id):
                continue
            found = session.scalar(
                _stoppable(run)
                .where(Run.provider == provider, Run.model_id == model_id)
                .order_by(Run.finished_at.desc().nulls_last(), Run.id.desc())
                .limit(1)
            )
            if found is not None:
                return int(found)
    return None


def _family(db: Database, run: Run) -> int:
    """Suites in the run's family: its event's runs of the same model (one for a run without event)."""
    if run.event_id is None:
        return 1
    with db.session() as session:
        count = session.scalar(
            select(func.count(Run.id)).where(
                Run.event_id == run.event_id, Run.provider == run.provider, Run.model_id == run.model_id
            )
        )
    return max(1, int(count or 1))


def plan_stop(
    db: Database,
    config: Config,
    run: Run,
    *,
    keys: Sequence[str],
    base_name: str,
    family: int | None,
    baseline_run_id: int | None = None,
) -> dict[str, Any] | None:
    """The run's early-stopping plan: the stored one on a resume, else a new one stored now (a seed for
    the random order, the baseline run, the family and the level); None without a baseline run to stop
    against. `baseline_run_id` is the run the caller compares with (`eval --baseline`); without it the
    run stops against the configured `[baseline]`."""
    if run.sequential:
        return dict(run.sequential)
    baseline_id = _baseline_run(db, config, run, base_name, baseline_run_id)
    if baseline_id is None:
        return None
    size = family if family is not None else _family(db, run)
    plan = {
        "seed": secrets.randbits(32),
        "baseline_run_id": baseline_id,
        "family": size,
        "level": stop_level(config.stats.alpha, size),
        "samples": len(keys),
    }
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run.id).values(sequential=plan))
    return plan


def monitor_for(db: Database, plan: dict[str, Any], run: Run, keys: Sequence[str]) -> StopMonitor:
    """The live test of a planned run, with the baseline's results loaded and the run's own stored ones
    (a resumed run) already read."""

    def results(run_id: int) -> list[tuple[str, float | None, str | None]]:
        query = select(Result.sample_key, Result.score, Result.error_kind).where(Result.run_id == run_id)
        return [(r[0], r[1], r[2]) for r in session.execute(query.order_by(Result.id))]

    with db.session() as session:
        baseline, own = results(int(plan["baseline_run_id"])), results(run.id)
    monitor = StopMonitor(
        order=sample_order(keys, int(plan["seed"])),
        repeat=max(1, run.repeat),
        level=float(plan["level"]),
        baseline=sample_scores(baseline),
        total=len(keys),
    )
    for key, score, error_kind in own:
        monitor.add(key, score, error_kind)
    return monitor


def record_stop(db: Database, run_id: int, monitor: StopMonitor) -> None:
    """Store why the run stopped and after how many samples of its order."""
    with db.session() as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(stop_reason=monitor.reason, stopped_after=monitor.read)
        )
