"""Real rows for tests: suites with samples, runs with results, events (no mocks, any database)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from monitor.core.config import Config, load_config
from monitor.store.tables import Event, Result, Run, Sample, Suite

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def add_suite(
    session: Session,
    name: str = "qa",
    version: str = "v1",
    size: int = 10,
    *,
    targets: Sequence[Any] | None = None,
    prompts: Sequence[str] | None = None,
    groups: Sequence[str | None] | None = None,
    created_at: datetime = T0,
) -> Suite:
    """A suite version with `size` samples keyed s000, s001...; prompts, targets and groups optional."""
    suite = Suite(
        name=name,
        version=version,
        description=f"Test suite {name}",
        sample_count=size,
        definition={"name": name},
        created_at=created_at,
    )
    session.add(suite)
    session.flush()
    for i in range(size):
        prompt = prompts[i] if prompts is not None else f"What is {i} + {i}?"
        session.add(
            Sample(
                suite_id=suite.id,
                key=f"s{i:03d}",
                position=i,
                group=groups[i] if groups is not None else None,
                messages=[
                    {"role": "system", "content": "Answer briefly."},
                    {"role": "user", "content": prompt},
                ],
                target=targets[i] if targets is not None else str(2 * i),
            )
        )
    session.flush()
    return suite


def add_event(
    session: Session,
    kind: str,
    model_key: str,
    *,
    created_at: datetime = T0,
    detail: dict[str, Any] | None = None,
) -> Event:
    """An event as the poll records it and the queue plans it (its runs are the test's to add)."""
    provider, _, model_id = model_key.partition(":")
    event = Event(
        kind=kind,
        provider=provider,
        model_id=model_id,
        created_at=created_at,
        detail=detail or {},
        planned_at=created_at,
    )
    session.add(event)
    session.flush()
    return event


def add_run(
    session: Session,
    suite: Suite,
    model_key: str,
    outcomes: Sequence[bool | None],
    *,
    outputs: Sequence[str] | None = None,
    status: str = "done",
    event: Event | None = None,
    trigger: str = "manual",
    finished_at: datetime = T0,
    cost_per_sample: float | None = 0.001,
    error_kind: str = "timeout",
    latency_ms: float = 400.0,
) -> Run:
    """A run of `model_key` with one result per outcome: True passed, False failed, None errored.

    Totals (passed, failed, errored, score, cost, tokens, latency) are written as the runner would.
    """
    provider, _, model_id = model_key.partition(":")
    run = Run(
        provider=provider,
        model_id=model_id,
        suite_id=suite.id,
        event_id=event.id if event is not None else None,
        trigger=trigger,
        status=status,
        created_at=finished_at - timedelta(minutes=5),
        started_at=finished_at - timedelta(minutes=4),
        finished_at=finished_at if status in ("done", "failed") else None,
        samples_total=len(outcomes),
    )
    session.add(run)
    session.flush()
    scored = [o for o in outcomes if o is not None]
    for i, outcome in enumerate(outcomes):
        errored = outcome is None
        output = outputs[i] if outputs is not None else (str(2 * i) if outcome else "I do not know")
        session.add(
            Result(
                run_id=run.id,
                sample_key=f"s{i:03d}",
                repeat=0,
                prompt_hash=f"h{i}",
                output=None if errored else output,
                score=None if errored else float(bool(outcome)),
                passed=None if errored else bool(outcome),
                grades=[]
                if errored
                else [{"grader": "exact", "score": float(bool(outcome)), "passed": outcome}],
                error_kind=error_kind if errored else None,
                error_message=f"{error_kind} after 3 attempts" if errored else None,
                latency_ms=None if errored else latency_ms + 10 * i,
                input_tokens=0 if errored else 20,
                output_tokens=0 if errored else 5,
                cost_usd=0.0 if errored else cost_per_sample,
                finish_reason=None if errored else "stop",
            )
        )
    run.passed = sum(1 for o in scored if o)
    run.failed = sum(1 for o in scored if not o)
    run.errored = len(outcomes) - len(scored)
    run.score = run.passed / len(scored) if scored else None
    run.cost_usd = None if cost_per_sample is None else cost_per_sample * len(scored)
    run.input_tokens = 20 * len(scored)
    run.output_tokens = 5 * len(scored)
    session.flush()
    return run


def make_config(directory: Path, *, baseline: str = "sim:base", extra: str = "") -> Config:
    """A monitor.toml in `directory` with a simulated provider `sim`, its database and reports there."""
    path = directory / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "sqlite:///monitor.db"

            [providers.sim]
            type = "openai-compatible"
            base_url = "http://127.0.0.1:9/v1"

            [baseline]
            default = "{baseline}"
            """
        )
        + extra
    )
    return load_config(path)
