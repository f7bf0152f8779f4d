"""The leaderboard's run statistics, computed once per finished run and kept in `run_stats_cache`.

The index ranks the latest finished run of every model on every suite on each event; recomputing
each from its results reads most of the history. A finished run's statistics change only when its
row does (a resume, a repricing of its totals), so each is stored with a fingerprint of the run row
and recomputed when the fingerprint differs. Runs with upper-bound ("estimated") costs are never
stored: repricing may change their results without touching the run row.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError

from monitor.pipeline.compare.runs import RunStats, stats_from
from monitor.stats.estimate import Interval, ScoreEstimate
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Result, Run, Sample

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Created by migration 0009; a Core table of its own (the report stage is its only reader and writer).
CACHE = Table(
    "run_stats_cache",
    MetaData(),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("fingerprint", String(400), nullable=False),
    Column("stats", Text, nullable=False),
)
# Result columns stats_from reads: not the answers, prompts or grades.
STATS_COLUMNS = (
    Result.run_id,
    Result.sample_key,
    Result.score,
    Result.passed,
    Result.error_kind,
    Result.cost_usd,
    Result.input_tokens,
    Result.output_tokens,
    Result.latency_ms,
    Result.price_source,
    Result.resolved_model,
)
# Runs one query reads at a time (well under every database's bound-parameter limit).
BATCH = 500


@dataclass(frozen=True)
class _SampleGroup:
    """The one field of a Sample that stats_from reads."""

    group: str | None


def fingerprint(run: Run) -> str:
    """What a finished run's statistics depend on besides its results, which change only with it."""
    parts = (
        run.status,
        run.finished_at.isoformat() if run.finished_at else None,
        run.cost_usd,
        run.samples_total,
        run.passed,
        run.failed,
        run.errored,
        run.score,
        run.input_tokens,
        run.output_tokens,
        run.resolved_model,
        run.repeat,
        run.suite_id,
    )
    return json.dumps(parts)


def _estimate(data: dict[str, Any]) -> ScoreEstimate:
    ci = data["ci"]
    return ScoreEstimate(**{**data, "ci": Interval(**ci) if ci is not None else None})


def _load(text: str) -> RunStats:
    data = json.loads(text)
    return RunStats(**{**data, "score": _estimate(data["score"]), "pass_rate": _estimate(data["pass_rate"])})


def _computed(session: Session, runs: list[Run], suite_id: int) -> dict[int, RunStats]:
    """run_stats of each run of one suite version, from a few column-only queries."""
    samples = {
        key: _SampleGroup(group)
        for key, group in session.execute(select(Sample.key, Sample.group).where(Sample.suite_id == suite_id))
    }
    by_run: dict[int, list[Any]] = {run.id: [] for run in runs}
    ids = sorted(by_run)
    for start in range(0, len(ids), BATCH):
        query = (
            select(*STATS_COLUMNS)
            .where(Result.run_id.in_(ids[start : start + BATCH]))
            .order_by(Result.run_id, Result.id)
        )
        for row in session.execute(query):
            by_run[row.run_id].append(row)
    # The rows and groups carry every attribute stats_from reads of a Result and a Sample.
    shaped = cast("dict[str, Sample]", samples)
    return {run.id: stats_from(run, cast("list[Result]", by_run[run.id]), shaped) for run in runs}


def _store(session: Session, stats: dict[int, RunStats], prints: dict[int, str]) -> None:
    """Replace the cached rows of these runs; a concurrent writer's rows win (they are the same)."""
    rows = [
        {"run_id": run_id, "fingerprint": prints[run_id], "stats": json.dumps(asdict(s))}
        for run_id, s in stats.items()
        if not s.cost_estimated
    ]
    if not rows:
        return
    try:
        with session.begin_nested():
            session.execute(delete(CACHE).where(CACHE.c.run_id.in_([r["run_id"] for r in rows])))
            session.execute(insert(CACHE), rows)
    except IntegrityError:
        pass


def remember(session: Session, stats: dict[int, RunStats]) -> None:
    """Cache statistics computed elsewhere (the run reports') so the index does not read the results again."""
    runs = [run for run_id in sorted(stats) if (run := session.get(Run, run_id)) and run.status in COMPLETED]
    for start in range(0, len(runs), BATCH):
        part = runs[start : start + BATCH]
        _store(session, {run.id: stats[run.id] for run in part}, {run.id: fingerprint(run) for run in part})


def board_stats(session: Session, runs: list[Run], suite_id: int) -> list[RunStats]:
    """run_stats of each finished run of one suite version, in `runs` order, cached per run."""
    prints = {run.id: fingerprint(run) for run in runs}
    cached: dict[int, RunStats] = {}
    ids = sorted(prints)
    for start in range(0, len(ids), BATCH):
        query = select(CACHE.c.run_id, CACHE.c.fingerprint, CACHE.c.stats).where(
            CACHE.c.run_id.in_(ids[start : start + BATCH])
        )
        for run_id, stored, text in session.execute(query):
            if stored == prints[run_id]:
                cached[run_id] = _load(text)
    missing = [run for run in runs if run.id not in cached]
    if missing:
        fresh = _computed(session, missing, suite_id)
        _store(session, fresh, prints)
        cached.update(fresh)
    return [cached[run.id] for run in runs]
