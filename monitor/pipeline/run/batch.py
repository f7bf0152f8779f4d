"""Batch mode for scheduled runs: submit a run's samples to its provider's batch API, poll, collect.

A run that batches (scheduled, on a `[providers.X] batch = true` provider or a `batch: true` suite)
is claimed like any other. With no batch yet its samples are submitted: each `batches` row is
written (preparing, with its custom ids) before the provider is asked and gets the provider's id
right after, so a crash in between is resolved by looking the batch up, never by paying twice. The
run then waits (status `waiting`: not claimed, not released, no slot of `concurrent_runs`) while the
daemon's work tick polls its batches; once they have all ended the run is queued again, and the worker
that claims it grades and stores the answers like sync ones (run/batch_caller.py) and sends what the
batch did not answer (errored, expired, missing) the normal way.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.pipeline.queue import heartbeat
from monitor.pipeline.run.batch_caller import BatchAnswers
from monitor.pipeline.run.endpoints import load_apis
from monitor.pipeline.run.guard import judge_estimates
from monitor.pipeline.run.rebuild import resolve_suite_spec
from monitor.pipeline.run.sample import WorkItem, work_items
from monitor.providers import pricing
from monitor.providers.base import ProviderError
from monitor.providers.batch import ENDED, FAILED, OPEN, BatchAPI, BatchItem
from monitor.providers.batch_registry import batch_api, no_batch_reason
from monitor.store.db import Database
from monitor.store.tables import Batch, Result, Run, utcnow

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec

log = logging.getLogger(__name__)

SCHEDULED_TRIGGERS = ("new_model", "baseline", "drift")
"""Runs nobody waits for at a terminal: they may take the hours a batch can take. Manual runs never batch."""
MAX_BATCH_REQUESTS = 10_000
"""Requests per batch (OpenAI takes 50,000, Anthropic 100,000; smaller batches end and retry sooner)."""
PREPARING, COLLECTED = "preparing", "collected"
"""A `batches` row's own states around the provider's (OPEN, ENDED, FAILED): written but not known
to be submitted yet; its answers stored."""
WAITING = "waiting"
"""The status of a run whose batches are still with the provider."""
SUBMIT, RESUME, SYNC = "submit", "resume", "sync"


def wanted(config: Config, run: Run, spec: SuiteSpec) -> bool:
    """Whether the run should go through a batch API: scheduled, and its provider or its suite asks."""
    pcfg = config.providers.get(run.provider)
    asked = (pcfg is not None and pcfg.batch) or spec.definition.get("batch") is True
    return run.trigger in SCHEDULED_TRIGGERS and asked


def custom_id(tag: str, key: str, repeat: int) -> str:
    """A request's id in its batch: the row's tag, a digest of the sample key, the repeat (any sample key
    becomes an id both providers accept, and the tag finds the batch again after a crash)."""
    return f"{tag}-{hashlib.sha256(key.encode()).hexdigest()[:16]}-{repeat}"


def _item_key(cid: str) -> str:
    """The part of a custom id that names the sample and repeat, without the batch's tag."""
    return cid.partition("-")[2]


@dataclass
class Plan:
    """How a claimed run goes on (`step`: RESUME, SUBMIT or SYNC) and its suite when it was read for that."""

    step: str
    spec: SuiteSpec | None = None


def plan_for(db: Database, config: Config, run_id: int) -> Plan:
    """How a claimed run goes on: RESUME its batches, SUBMIT new ones, or SYNC (not a batch run; a
    provider asked to batch that cannot is said in the log). The suite read to decide is handed on."""
    with db.session() as session:
        if session.scalar(select(Batch.id).where(Batch.run_id == run_id).limit(1)) is not None:
            return Plan(RESUME)
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        session.expunge(run.suite)
        session.expunge(run)
    if run.trigger not in SCHEDULED_TRIGGERS or run.provider not in config.providers:
        return Plan(SYNC)
    try:
        spec = resolve_suite_spec(db, config, run.suite)
    except MonitorError:
        return Plan(SYNC)  # execute_run says why the suite cannot run
    if not wanted(config, run, spec):
        return Plan(SYNC, spec)
    reason = no_batch_reason(run.provider, config.providers[run.provider])
    if reason is not None:
        log.warning("run %d: batch mode asked, but %s", run_id, reason)
        return Plan(SYNC, spec)
    return Plan(SUBMIT, spec)


@dataclass
class Advance:
    """What `advance` left the run in: waiting on its batches, or ready to collect with `answers`."""

    waiting: bool
    answers: BatchAnswers | None = None
    spec: SuiteSpec | None = None
    notes: list[str] = field(default_factory=list)


async def advance(
    db: Database, config: Config, run_id: int, *, worker_id: str, spec: SuiteSpec | None = None
) -> Advance:
    """Take a claimed batch run one step: resolve preparing batches, submit what no batch carries, then
    either release the run to wait (some batch is open) or return the ended batches' answers. `spec`:
    the run's suite when `plan_for` read it (it is not read again)."""
    return await asyncio.to_thread(_advance, db, config, run_id, worker_id, spec)


def _advance(db: Database, config: Config, run_id: int, worker_id: str, spec: SuiteSpec | None) -> Advance:
    run, spec, stored, rows = _load(db, config, run_id, spec)
    from monitor.providers.registry import get_provider

    pcfg = config.providers.get(run.provider)
    if pcfg is None:
        raise MonitorError(f"provider '{run.provider}' is not in [providers]; its batches cannot be read")
    provider = get_provider(run.provider, pcfg)
    api = batch_api(run.provider, pcfg, provider)
    result = Advance(waiting=False, spec=spec)
    try:
        load_apis(db, run.provider, provider)
        items = dict(_batchable(api, run, spec, stored, pcfg.timeout_s))
        fresh = not rows
        for row in rows:
            if row.status == PREPARING:
                _resolve(db, api, row, items)
        covered = {_item_key(cid) for row in rows for cid in row.custom_ids}
        todo = [item for item_id, item in items.items() if item_id not in covered]
        for start in range(0, len(todo), MAX_BATCH_REQUESTS):
            _submit_new(db, api, run, todo[start : start + MAX_BATCH_REQUESTS])
            heartbeat(db, run_id, worker_id)  # a long submission is not a dead worker's
        if fresh and todo:
            _store_batch_estimate(db, config, run, spec)
        rows = _rows(db, run_id)
        if any(row.status in (PREPARING, OPEN) for row in rows):
            _wait(db, run_id, worker_id)
            result.waiting = True
            return result
        try:
            result.answers = _collect(db, config, api, run, spec, rows, result.notes, stored)
        except ProviderError as exc:
            if not exc.retryable:
                raise
            log.warning(
                "run %d: its batches' answers cannot be read now (%s); trying again later", run_id, exc
            )
            _wait(db, run_id, worker_id)
            result.waiting = True
        return result
    finally:
        api.close()
        asyncio.run(provider.aclose())


def _load(
    db: Database, config: Config, run_id: int, spec: SuiteSpec | None
) -> tuple[Run, SuiteSpec, set[tuple[str, int]], list[Batch]]:
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        keys = session.execute(
            select(Result.sample_key, Result.repeat).where(
                Result.run_id == run_id, Result.error_kind.is_(None)
            )
        ).all()
        session.expunge(run.suite)
        session.expunge(run)
    if spec is None or spec.version != run.suite.version:
        spec = resolve_suite_spec(db, config, run.suite)
    return run, spec, {(k, r) for k, r in keys}, _rows(db, run_id)


def _rows(db: Database, run_id: int) -> list[Batch]:
    with db.session() as session:
        rows = list(session.scalars(select(Batch).where(Batch.run_id == run_id).order_by(Batch.id)))
        session.expunge_all()
    return rows


def _batchable(
    api: BatchAPI, run: Run, spec: SuiteSpec, stored: set[tuple[str, int]], timeout_s: float
) -> Iterator[tuple[str, WorkItem]]:
    """The run's items not stored yet that can go in a batch, by their custom id without the tag. A
    sample with scripted tool results needs the model's answer before its next turn: it goes sync."""
    params = {**(spec.params or {}), **(run.params or {})}
    repeat = max(1, run.repeat)
    for item in work_items(
        spec, params, model_id=run.model_id, repeat=repeat, timeout_s=timeout_s, stored=stored
    ):
        if item.sample.tool_results or api.unbatchable(item.request) is not None:
            continue
        yield _item_key(custom_id("", item.sample.key, item.repeat)), item


def _resolve(db: Database, api: BatchAPI, row: Batch, items: dict[str, WorkItem]) -> None:
    """A row written but not known to be submitted (a crash, or a failed submission): adopt the batch the
    provider shows for it, submit it when the provider shows none, or leave it while that is unclear."""
    tag = row.custom_ids[0].partition("-")[0] if row.custom_ids else ""
    try:
        found = api.find(tag, since=row.created_at, count=len(row.custom_ids))
    except ProviderError as exc:
        _note(db, row.id, f"could not look the batch up: {exc}")
        return
    if found.remote_id is not None:
        log.info("batch %d: found on the provider as %s after a restart", row.id, found.remote_id)
        _submitted(db, row.id, found.remote_id)
        return
    if not found.settled:
        _note(db, row.id, "a batch the provider is still running may be this one: waiting for it to end")
        return
    batch = [
        BatchItem(cid, items[_item_key(cid)].request) for cid in row.custom_ids if _item_key(cid) in items
    ]
    _send(db, api, row.id, batch, tag)


def _submit_new(db: Database, api: BatchAPI, run: Run, items: list[WorkItem]) -> None:
    """Write the row (preparing, its custom ids) and commit, then submit: a crash leaves a row to resolve."""
    tag = "mm" + secrets.token_hex(5)
    batch = [BatchItem(custom_id(tag, item.sample.key, item.repeat), item.request) for item in items]
    with db.session() as session:
        row = Batch(
            run_id=run.id, provider=run.provider, status=PREPARING, custom_ids=[b.custom_id for b in batch]
        )
        session.add(row)
        session.flush()
        row_id = row.id
    _send(db, api, row_id, batch, tag)


def _send(db: Database, api: BatchAPI, row_id: int, batch: list[BatchItem], tag: str) -> None:
    """Submit and store the provider's id at once; a retryable failure leaves the row to resolve, any
    other fails the row (its samples go sync when the run is collected)."""
    if not batch:
        finish_row(db, row_id, FAILED, "nothing left to send in this batch")
        return
    try:
        remote_id = api.submit(batch, tag=tag)
    except ProviderError as exc:
        if exc.retryable:
            _note(db, row_id, f"submission failed, to be looked up and retried: {exc}")
        else:
            finish_row(db, row_id, FAILED, f"submission refused: {exc}")
        return
    _submitted(db, row_id, remote_id)
    log.info("batch %d: %d request(s) submitted as %s", row_id, len(batch), remote_id)


def _submitted(db: Database, row_id: int, remote_id: str) -> None:
    with db.session() as session:
        session.execute(
            update(Batch)
            .where(Batch.id == row_id)
            .values(remote_id=remote_id, status=OPEN, submitted_at=utcnow(), last_error=None)
        )


def _note(db: Database, row_id: int, text: str) -> None:
    with db.session() as session:
        session.execute(
            update(Batch).where(Batch.id == row_id).values(last_error=text[:2000], checked_at=utcnow())
        )


def finish_row(db: Database, row_id: int, status: str, text: str | None) -> None:
    with db.session() as session:
        session.execute(
            update(Batch)
            .where(Batch.id == row_id)
            .values(
                status=status,
                last_error=text[:2000] if text else None,
                finished_at=utcnow(),
                checked_at=utcnow(),
            )
        )


def _store_batch_estimate(db: Database, config: Config, run: Run, spec: SuiteSpec) -> None:
    """The run's estimate at the batch price, its judges' verdicts (sent sync) at theirs (the cost guard
    checked it at the full price, the safe side)."""
    params = {**(spec.params or {}), **(run.params or {})}
    repeat = max(1, run.repeat)
    estimate = pricing.estimate_run(
        config,
        run.model_key,
        (s.messages for s in spec.samples),
        params,
        repeat=repeat,
        batch=True,
        judges=judge_estimates(config, spec, params, repeat),
    )
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run.id).values(estimated_cost_usd=estimate.cost_usd))


def _wait(db: Database, run_id: int, worker_id: str) -> None:
    """Release the claim: the run waits on its batches, neither claimable nor counted as running."""
    with db.session() as session:
        session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running", Run.claimed_by == worker_id)
            .values(status=WAITING, claimed_by=None, heartbeat_at=None)
        )


def _collect(
    db: Database,
    config: Config,
    api: BatchAPI,
    run: Run,
    spec: SuiteSpec,
    rows: list[Batch],
    notes: list[str],
    stored: set[tuple[str, int]],
) -> BatchAnswers:
    """The ended batches' answers by (sample key, repeat); what a batch did not answer is left to sync,
    within the per-run cap (`stored`: the items whose results are stored, their cost in the run's)."""
    by_item = {
        _item_key(custom_id("", sample.key, repeat)): (sample.key, repeat)
        for sample in spec.samples
        for repeat in range(max(1, run.repeat))
    }
    answers = {}
    for row in rows:
        if row.status != ENDED or row.remote_id is None:
            continue
        missing = {_item_key(cid) for cid in row.custom_ids}
        try:
            read = api.answers(row.remote_id)
        except ProviderError as exc:
            if exc.retryable:
                raise
            read = []  # gone (results are kept for a limited time): its requests are sent sync
            notes.append(f"batch {row.id}: its answers cannot be read ({exc})")
        for answer in read:
            item_id = _item_key(answer.custom_id)
            if item_id not in missing or item_id not in by_item:
                continue
            if answer.completion is not None:
                answers[by_item[item_id]] = answer.completion
                missing.discard(item_id)
        if missing:
            notes.append(
                f"batch {row.id}: {len(missing)} of {len(row.custom_ids)} request(s) unanswered, sent sync"
            )
    for note in notes:
        log.info("run %d: %s", run.id, note)
    price = pricing.price_for(config, run.model_key, batch=True)
    bought = BatchAnswers({key: answer for key, answer in answers.items() if key not in stored}, price)
    return BatchAnswers(
        answers,
        price,
        cap=config.budget.max_cost_usd_per_run,
        params={**(spec.params or {}), **(run.params or {})},
        spent_usd=_stored_cost(db, run.id) + sum(bought.cost(key) for key in bought.answers),
    )


def _stored_cost(db: Database, run_id: int) -> float:
    """What the run's stored results cost (spent before this collection: an interrupted one's rows)."""
    with db.session() as session:
        total = session.scalar(select(func.sum(Result.cost_usd)).where(Result.run_id == run_id))
    return float(total or 0.0)


def mark_collected(db: Database, run_id: int, status: str) -> None:
    """Once the run has stored its batches' answers (it ended, not interrupted), they are not read again."""
    if status in ("interrupted", WAITING, "running"):
        return
    with db.session() as session:
        session.execute(
            update(Batch).where(Batch.run_id == run_id, Batch.status == ENDED).values(status=COLLECTED)
        )
