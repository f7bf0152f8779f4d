"""Builders for real suite, sample, run and result rows used by the comparison tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from monitor.store.db import Database, open_database
from monitor.store.tables import Event, Result, Run, Sample, Suite

START = datetime(2026, 5, 1, tzinfo=UTC)


def stored_runs_config(write_config: Callable[[str], Path], database: Path) -> tuple[Path, Database]:
    """A monitor.toml on the SQLite file `database` whose provider `sim` is unreachable (so only stored
    runs are compared), and that database opened."""
    path = write_config(
        f"""
        [database]
        url = "sqlite:///{database}"

        [providers.sim]
        type = "openai-compatible"
        base_url = "http://127.0.0.1:9/v1"
        """
    )
    return path, open_database(f"sqlite:///{database}")


def add_suite(
    session: Session,
    name: str,
    n: int,
    *,
    version: str = "v1",
    groups: Sequence[str | None] | None = None,
) -> Suite:
    """A suite version with samples q0..q{n-1}: one user question each, target 'a{i}'."""
    suite = Suite(name=name, version=version, sample_count=n, definition={})
    session.add(suite)
    session.flush()
    for i in range(n):
        session.add(
            Sample(
                suite_id=suite.id,
                key=f"q{i}",
                position=i,
                group=groups[i] if groups else None,
                messages=[
                    {"role": "system", "content": "Answer briefly."},
                    {"role": "user", "content": f"question {i}?"},
                ],
                target=f"a{i}",
            )
        )
    session.flush()
    return suite


def add_run(
    session: Session,
    suite: Suite,
    model_key: str,
    outcomes: Sequence[bool | float | None],
    *,
    status: str = "done",
    event: Event | None = None,
    cost_each: float | None = 0.001,
    latencies: Sequence[float] | None = None,
    repeat_outcomes: Sequence[Sequence[bool | float | None]] = (),
    finished_offset_min: int = 0,
) -> Run:
    """A run with one result per sample: True/False pass-fail, a float graded score, None an error.

    `repeat_outcomes` adds further repeats (repeat 1, 2, ...) with the same encoding.
    """
    provider, model_id = model_key.split(":", 1)
    run = Run(
        provider=provider,
        model_id=model_id,
        suite_id=suite.id,
        event_id=event.id if event else None,
        trigger="new_model" if event else "manual",
        status=status,
        repeat=1 + len(repeat_outcomes),
        finished_at=START + timedelta(minutes=finished_offset_min) if status == "done" else None,
    )
    session.add(run)
    session.flush()
    total_cost = 0.0
    for repeat, row in enumerate([outcomes, *repeat_outcomes]):
        for i, outcome in enumerate(row):
            errored = outcome is None
            score = None if errored else float(outcome)  # type: ignore[arg-type]
            session.add(
                Result(
                    run_id=run.id,
                    sample_key=f"q{i}",
                    repeat=repeat,
                    prompt_hash=f"h{i}",
                    output=None if errored else f"{model_id} answer {i}",
                    score=score,
                    passed=None if score is None else score >= 1.0,
                    error_kind="timeout" if errored else None,
                    error_message="timed out after 60 s" if errored else None,
                    latency_ms=latencies[i] if latencies else (None if errored else 100.0 + i),
                    input_tokens=None if errored else 10,
                    output_tokens=None if errored else 5,
                    cost_usd=None if errored else cost_each,
                )
            )
            if not errored and cost_each is not None:
                total_cost += cost_each
    run.cost_usd = total_cost if cost_each is not None else None
    session.flush()
    return run


def add_event(session: Session, model_key: str, kind: str = "new_model") -> Event:
    provider, model_id = model_key.split(":", 1)
    event = Event(kind=kind, provider=provider, model_id=model_id, detail={})
    session.add(event)
    session.flush()
    return event


def pattern(n: int, passed: int) -> list[bool]:
    """n pass/fail outcomes, the first `passed` of them passing."""
    return [i < passed for i in range(n)]
