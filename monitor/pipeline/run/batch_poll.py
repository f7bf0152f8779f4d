"""The daemon's side of batch mode: poll the waiting runs' batches by their stored ids, queue ended runs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.pipeline.run.batch import WAITING, finish_row
from monitor.providers.base import ProviderError
from monitor.providers.batch import FAILED, OPEN
from monitor.providers.batch_registry import batch_api, no_batch_reason
from monitor.store.db import Database
from monitor.store.tables import Batch, Run, utcnow

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    """One poll of the waiting runs' batches: how many were checked, ended, and which runs can go on."""

    checked: int = 0
    ended: int = 0
    requeued: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def poll_batches(db: Database, config: Config) -> PollReport:
    """Check every open batch of the waiting runs (by its stored id: a restart resumes, never resubmits);
    queue again each run none of whose batches is open any more, for a worker to collect it."""
    report = PollReport()
    with db.session() as session:
        waiting = session.execute(select(Run.id, Run.provider).where(Run.status == WAITING)).all()
        rows = session.execute(
            select(Batch.id, Batch.run_id, Batch.remote_id)
            .join(Run, Run.id == Batch.run_id)
            .where(Run.status == WAITING, Batch.status == OPEN, Batch.remote_id.is_not(None))
            .order_by(Batch.id)
        ).all()
    providers = {provider for _, provider in waiting}
    still_open: set[int] = set()
    for name in sorted(providers):
        mine = [row for row in rows if row.run_id in {r for r, p in waiting if p == name}]
        if mine:
            still_open |= _check(db, config, name, mine, report)
    for run_id, _ in waiting:
        if run_id in still_open:
            continue
        with db.session() as session:
            moved = session.execute(
                update(Run).where(Run.id == run_id, Run.status == WAITING).values(status="queued")
            ).rowcount  # type: ignore[attr-defined]
        if moved:
            report.requeued.append(run_id)
    return report


def _check(db: Database, config: Config, name: str, rows: list[Any], report: PollReport) -> set[int]:
    """Read the state of one provider's open batches; returns the runs that still have one open."""
    from monitor.providers.registry import get_provider

    pcfg = config.providers.get(name)
    if pcfg is None or no_batch_reason(name, pcfg) is not None:
        report.errors.append(
            f"provider '{name}': {no_batch_reason(name, pcfg) if pcfg else 'not in [providers]'}"
        )
        return {row.run_id for row in rows}
    try:
        provider = get_provider(name, pcfg)
        api = batch_api(name, pcfg, provider)
    except MonitorError as exc:
        report.errors.append(f"provider '{name}': {exc}")
        return {row.run_id for row in rows}
    still_open: set[int] = set()
    try:
        for row in rows:
            try:
                state = api.state(row.remote_id)
            except ProviderError as exc:
                report.errors.append(f"batch {row.id} ({row.remote_id}): {exc}")
                still_open.add(row.run_id)
                continue
            report.checked += 1
            if state.status == OPEN:
                still_open.add(row.run_id)
                with db.session() as session:
                    session.execute(update(Batch).where(Batch.id == row.id).values(checked_at=utcnow()))
                continue
            report.ended += 1
            finish_row(db, row.id, state.status, state.detail if state.status == FAILED else None)
            log.info("batch %d (%s): %s", row.id, row.remote_id, state.detail)
    finally:
        api.close()
        asyncio.run(provider.aclose())
    return still_open
