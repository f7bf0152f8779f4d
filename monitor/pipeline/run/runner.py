"""Execute a run: bounded, rate-limited, retried calls, graded and written as they finish; resumable."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from monitor.core.config import Config, PriceConfig
from monitor.core.errors import MonitorError
from monitor.evals.graders import grade_sample
from monitor.pipeline.queue import claim_next_run, heartbeat
from monitor.providers import pricing
from monitor.providers.base import ChatRequest, Completion, Provider, ProviderError, ProviderTimeout
from monitor.providers.limits import ProviderLimiter, limiter_for
from monitor.providers.retry import GaveUp, RetryPolicy, call_with_retries
from monitor.store.db import Database
from monitor.store.tables import Result, Run, Sample, Suite, utcnow

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec
    from monitor.evals.spec import SampleSpec

log = logging.getLogger(__name__)

# Errors after which every further call of the run would fail the same way: fail the run at once.
FATAL_KINDS = frozenset({"auth", "quota", "not_found"})
# An empty answer cut off by the token limit is a budget problem, not a wrong answer: an error.
TRUNCATED_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS"})
FLUSH_INTERVAL_S = 0.05
FLUSH_ROWS = 100
HEARTBEAT_INTERVAL_S = 10.0
STOP_GRACE_S = 5.0
_CHAT_PARAMS = ("max_tokens", "temperature", "seed")


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


@dataclass(frozen=True)
class RunSummary:
    """A run's totals as stored on its row; `cost_usd` None means cost unknown."""

    run_id: int
    model_key: str
    suite: str
    suite_version: str
    status: str
    samples_total: int
    done: int
    passed: int
    failed: int
    errored: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    estimated_cost_usd: float | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prompt_hash(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    blob = json.dumps([messages, params], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def resolve_suite_spec(db: Database, config: Config, suite: Suite) -> SuiteSpec:
    """The spec of a stored suite version: from the suites directory while the file still has this
    version, else rebuilt from the stored samples and definition (the file changed since)."""
    from monitor.core.errors import SuiteError
    from monitor.evals.loader import load_suites

    try:
        for spec in load_suites(config.suites_dir, [suite.name], default_judge=config.judge.model):
            if spec.version == suite.version:
                return spec
    except SuiteError as exc:
        log.info(
            "suite %s not loadable from %s (%s); using the stored version", suite.name, config.suites_dir, exc
        )
    return stored_suite_spec(db, suite)


def stored_suite_spec(db: Database, suite: Suite) -> SuiteSpec:
    """Rebuild a suite version from its stored samples and definition (sample vars are not stored)."""
    from monitor.evals.graders import build_graders
    from monitor.evals.loader import SuiteSpec
    from monitor.evals.spec import SampleSpec

    definition = suite.definition or {}
    if not definition.get("graders"):
        raise MonitorError(
            f"suite '{suite.name}' version {suite.version} has no stored graders to grade with"
        )
    judge_model = definition.get("judge_model")
    source = f"stored suite {suite.name}@{suite.version}"
    with db.session() as session:
        rows = session.execute(
            select(Sample.key, Sample.messages, Sample.target, Sample.choices, Sample.group)
            .where(Sample.suite_id == suite.id)
            .order_by(Sample.position)
        ).all()
    return SuiteSpec(
        name=suite.name,
        description=suite.description or "",
        path=Path(str(definition.get("path") or suite.name)),
        version=suite.version,
        params=dict(definition.get("params") or {}),
        graders=build_graders(list(definition["graders"]), source=source, judge_model=judge_model),
        pass_threshold=float(definition.get("pass_threshold", 1.0)),
        samples=[
            SampleSpec(key, list(messages), target, choices, group, {}, f"{source}:{key}")
            for key, messages, target, choices, group in rows
        ],
        judge_model=judge_model,
        definition=definition,
    )


@dataclass
class _Item:
    sample: SampleSpec
    repeat: int
    request: ChatRequest
    prompt_hash: str
    tokens: int


class _RunExecution:
    """State of one run while it executes: the work iterator, counters, writer buffer and halt flag."""

    def __init__(
        self,
        db: Database,
        config: Config,
        run: Run,
        spec: SuiteSpec,
        provider: Provider,
        limiter: ProviderLimiter,
        *,
        worker_id: str,
        concurrency: int,
        progress: Callable[[RunProgress], None] | None,
        max_cost_usd: float | None,
        judge: Any,
        judges: dict[str, Any],
    ) -> None:
        self.db = db
        self.run_id = run.id
        self.model_key = run.model_key
        self.spec = spec
        self.provider = provider
        self.limiter = limiter
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.progress_cb = progress
        self.max_cost_usd = max_cost_usd
        self.judge = judge
        self.judges = judges
        pcfg = config.providers[run.provider]
        self.timeout_s = pcfg.timeout_s
        self.policy = RetryPolicy.for_provider(pcfg)
        self.price = config.price_for(run.model_key)
        self.params: dict[str, Any] = {**(spec.params or {}), **(run.params or {})}
        self.model_id = run.model_id
        self.repeat = max(1, run.repeat)
        self.halt = asyncio.Event()
        self.fatal: str | None = None
        self.lost_claim = False
        self.buffer: list[dict[str, Any]] = []
        self.buffer_full = asyncio.Event()
        self.progress = RunProgress(run.id, run.model_key, spec.name, len(spec.samples) * self.repeat)
        self.output_tokens = pricing.output_tokens_for(self.params)

    def items(self, stored: set[tuple[str, int]]) -> Iterator[_Item]:
        extra = {k: v for k, v in self.params.items() if k not in _CHAT_PARAMS}
        for sample in self.spec.samples:
            todo = [r for r in range(self.repeat) if (sample.key, r) not in stored]
            if not todo:
                continue
            request = ChatRequest(
                model=self.model_id,
                messages=sample.messages,
                max_tokens=self.params.get("max_tokens"),
                temperature=self.params.get("temperature"),
                seed=self.params.get("seed"),
                timeout_s=self.timeout_s,
                extra=extra,
            )
            digest = prompt_hash(sample.messages, self.params)
            tokens = pricing.estimate_tokens(sample.messages) + self.output_tokens
            for repeat in todo:
                yield _Item(sample, repeat, request, digest, tokens)

    async def _call(self, item: _Item) -> Completion:
        async with self.limiter.slot(item.tokens):
            try:
                async with asyncio.timeout(self.timeout_s):
                    completion = await self.provider.complete(item.request)
            except TimeoutError:
                raise ProviderTimeout(
                    f"no answer within {self.timeout_s:g}s", provider=self.provider.name
                ) from None
            except ProviderError as error:
                if error.kind == "rate_limited" and error.retry_after:
                    self.limiter.pause(error.retry_after)
                raise
        used = None
        if completion.input_tokens is not None and completion.output_tokens is not None:
            used = completion.input_tokens + completion.output_tokens
        self.limiter.settle_tokens(item.tokens, used)
        return completion

    async def _process(self, item: _Item) -> dict[str, Any] | None:
        """The result row of one item; None when a stop cut its retries short (it stays to do)."""
        row: dict[str, Any] = {
            "run_id": self.run_id,
            "sample_key": item.sample.key,
            "repeat": item.repeat,
            "prompt_hash": item.prompt_hash,
            "created_at": utcnow(),
        }
        try:
            completion, attempts = await call_with_retries(
                lambda: self._call(item), self.policy, should_stop=self.halt.is_set
            )
        except GaveUp as gave_up:
            error = gave_up.error
            if error.retryable and self.halt.is_set():
                return None
            if error.kind in FATAL_KINDS and self.fatal is None:
                self.fatal = f"{error.kind}: {error}"
                self.halt.set()
            row.update(
                output=None,
                score=None,
                passed=None,
                grades=[],
                error_kind=error.kind,
                error_message=str(error)[:2000],
                attempts=gave_up.attempts,
                latency_ms=None,
                input_tokens=None,
                output_tokens=None,
                cost_usd=None if self.price is None else 0.0,
                finish_reason=None,
                resolved_model=None,
                system_fingerprint=None,
            )
            return row
        cost = pricing.call_cost(self.price, completion.input_tokens, completion.output_tokens)
        row.update(
            output=completion.text,
            attempts=attempts,
            latency_ms=completion.latency_ms,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            finish_reason=completion.finish_reason,
            resolved_model=completion.resolved_model,
            system_fingerprint=completion.system_fingerprint,
        )
        if not completion.text.strip() and completion.finish_reason in TRUNCATED_REASONS:
            row.update(
                score=None,
                passed=None,
                grades=[],
                error_kind="token_budget",
                error_message=(
                    f"no answer: the {self.spec.params.get('max_tokens', 'default')}-token budget was spent "
                    f"before any text (finish_reason={completion.finish_reason}); reasoning models count "
                    "their thinking in it, so raise the suite's max_tokens"
                ),
                cost_usd=cost,
            )
            return row
        try:
            graded = await grade_sample(
                self.spec.graders,
                completion.text,
                item.sample,
                pass_threshold=self.spec.pass_threshold,
                judge=self.judge,
                judges=self.judges,
            )
        except Exception as exc:  # a grader's own failure is this sample's error, not the run's
            log.warning("grading %s failed: %s", item.sample.key, exc)
            row.update(
                score=None,
                passed=None,
                grades=[],
                error_kind=getattr(exc, "kind", "grader"),
                error_message=f"{type(exc).__name__}: {exc}"[:2000],
                cost_usd=cost,
            )
            return row
        cost = None if cost is None or graded.judge_cost_usd is None else cost + graded.judge_cost_usd
        row.update(
            score=graded.score,
            passed=graded.passed,
            grades=[
                {"grader": g.grader, "score": g.score, "passed": g.passed, "detail": g.detail}
                for g in graded.grades
            ],
            error_kind=None,
            error_message=None,
            cost_usd=cost,
        )
        return row

    async def worker(self, work: Iterator[_Item]) -> None:
        try:
            await self._work(work)
        except Exception:
            self.halt.set()
            raise

    async def _work(self, work: Iterator[_Item]) -> None:
        while not self.halt.is_set():
            item = next(work, None)
            if item is None:
                return
            row = await self._process(item)
            if row is None:
                continue
            self.buffer.append(row)
            self.progress.add(row["score"], row["passed"], row["error_kind"] is not None, row["cost_usd"])
            if len(self.buffer) >= FLUSH_ROWS:
                self.buffer_full.set()
            if (
                self.max_cost_usd is not None
                and self.progress.cost_usd is not None
                and self.progress.cost_usd >= self.max_cost_usd
                and self.fatal is None
            ):
                self.fatal = f"stopped at the cost limit {pricing.format_cost(self.max_cost_usd)}"
                self.halt.set()

    async def flush(self) -> None:
        if not self.buffer:
            return
        rows, self.buffer = self.buffer, []
        self.buffer_full.clear()
        insert_results(self.db, rows)
        if self.progress_cb is not None:
            self.progress_cb(self.progress)

    async def writer(self, finished: asyncio.Event) -> None:
        """The single writer: flush every FLUSH_INTERVAL_S or FLUSH_ROWS rows; heartbeat the claim."""
        try:
            await self._write(finished)
        except Exception:
            self.halt.set()  # no point sending what cannot be stored
            raise

    async def _write(self, finished: asyncio.Event) -> None:
        last_beat = time.monotonic()
        while not finished.is_set():
            try:
                async with asyncio.timeout(FLUSH_INTERVAL_S):
                    await self.buffer_full.wait()
            except TimeoutError:
                pass
            await self.flush()
            if time.monotonic() - last_beat >= HEARTBEAT_INTERVAL_S:
                last_beat = time.monotonic()
                if not heartbeat(self.db, self.run_id, self.worker_id):
                    self.lost_claim = True
                    self.halt.set()
        await self.flush()

    async def execute(self, stored: set[tuple[str, int]], stop: asyncio.Event | None) -> str:
        """Run the pool to completion or until halted; return the final status."""
        work = self.items(stored)
        finished = asyncio.Event()
        writer = asyncio.create_task(self.writer(finished))
        relay = asyncio.create_task(_relay(stop, self.halt)) if stop is not None else None
        workers = [asyncio.create_task(self.worker(work)) for _ in range(self.concurrency)]
        all_done = asyncio.create_task(asyncio.wait(workers))
        halted = asyncio.create_task(self.halt.wait())
        try:
            await asyncio.wait({all_done, halted}, return_when=asyncio.FIRST_COMPLETED)
            if not all_done.done():
                await asyncio.wait({all_done}, timeout=STOP_GRACE_S)
                for task in workers:
                    task.cancel()
                await asyncio.wait(workers)
            for task in workers:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            all_done.cancel()
            halted.cancel()
            if relay is not None:
                relay.cancel()
            finished.set()
            await writer
        if self.lost_claim:
            return "lost"
        if self.fatal is not None:
            return "failed"
        if self.halt.is_set() and self.progress.done < self.progress.total:
            return "interrupted"
        return "done"


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


def insert_results(db: Database, rows: list[dict[str, Any]]) -> None:
    """Insert result rows in one statement, skipping any (run, sample, repeat) already stored."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(Result).on_conflict_do_nothing(
            index_elements=["run_id", "sample_key", "repeat"]
        )
    elif db.engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Result).on_conflict_do_nothing(index_elements=["run_id", "sample_key", "repeat"])
    else:
        raise MonitorError(f"unsupported database dialect {db.engine.dialect.name}")
    with db.engine.begin() as conn:
        conn.execute(stmt, rows)


def _pricer(price: PriceConfig | None) -> Callable[[int, int], float | None]:
    def cost(input_tokens: int, output_tokens: int) -> float | None:
        return pricing.call_cost(price, input_tokens, output_tokens)

    return cost


def _make_judges(db: Database, config: Config, spec: SuiteSpec) -> tuple[Any, dict[str, Any], list[Provider]]:
    """The suite's default judge, judges for graders naming their own model, and their providers."""
    if not spec.needs_judge:
        return None, {}, []
    from monitor.evals.judge import Judge
    from monitor.providers.registry import get_provider

    default_key = spec.judge_model or config.judge.model
    keys = set(spec.judge_models) | ({default_key} if default_key else set())
    judges: dict[str, Any] = {}
    providers: list[Provider] = []
    for key in sorted(keys):
        name, _, model_id = key.partition(":")
        if name not in config.providers:
            raise MonitorError(f"judge model {key} names provider '{name}', not in [providers]")
        judge_provider = get_provider(name, config.providers[name])
        providers.append(judge_provider)
        judges[key] = Judge(judge_provider, model_id, key, db, _pricer(config.price_for(key)))
    return (judges.get(default_key) if default_key else None), judges, providers


def _prepare(
    db: Database, run_id: int, worker_id: str, retry_errors: bool
) -> tuple[Run, Suite, set[tuple[str, int]], RunProgress]:
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        suite = run.suite
        if retry_errors:
            session.execute(delete(Result).where(Result.run_id == run_id, Result.error_kind.is_not(None)))
        rows = session.execute(
            select(
                Result.sample_key,
                Result.repeat,
                Result.score,
                Result.passed,
                Result.error_kind,
                Result.cost_usd,
            ).where(Result.run_id == run_id)
        ).all()
        run.status = "running"
        run.claimed_by = worker_id
        run.heartbeat_at = utcnow()
        run.started_at = run.started_at or utcnow()
        run.finished_at = None
        run.error = None
        session.flush()
        session.expunge(run)
        session.expunge(suite)
    progress = RunProgress(run.id, run.model_key, suite.name, suite.sample_count * max(1, run.repeat))
    stored = set()
    for key, repeat, score, passed, error_kind, cost in rows:
        stored.add((key, repeat))
        progress.add(score, passed, error_kind is not None, cost)
    return run, suite, stored, progress


async def execute_run(
    db: Database,
    config: Config,
    run_id: int,
    *,
    worker_id: str,
    provider: Provider | None = None,
    progress: Callable[[RunProgress], None] | None = None,
    stop: asyncio.Event | None = None,
    concurrency: int | None = None,
    max_cost_usd: float | None = None,
    spec: SuiteSpec | None = None,
    retry_errors: bool = True,
) -> RunSummary:
    """Execute (or resume) a claimed run and store its totals; returns its summary.

    Samples already stored are skipped (stored errors are retried when `retry_errors`). `stop` ends the
    run early: in-flight calls get a short grace, everything finished is written, status interrupted.
    """
    run, suite, stored, seeded = _prepare(db, run_id, worker_id, retry_errors)
    price_known = config.price_for(run.model_key) is not None
    if run.provider not in config.providers:
        return finish_run(
            db, run_id, "failed", f"provider '{run.provider}' is not in [providers]", price_known=price_known
        )
    try:
        spec = (
            spec
            if spec is not None and spec.version == suite.version
            else resolve_suite_spec(db, config, suite)
        )
    except MonitorError as exc:
        return finish_run(db, run_id, "failed", str(exc), price_known=price_known)
    own_provider = provider is None
    if provider is None:
        from monitor.providers.registry import get_provider

        provider = get_provider(run.provider, config.providers[run.provider])
    try:
        judge, judges, judge_providers = _make_judges(db, config, spec)
    except MonitorError as exc:
        return finish_run(db, run_id, "failed", str(exc), price_known=price_known)
    pcfg = config.providers[run.provider]
    slots = concurrency or pcfg.max_concurrency
    execution = _RunExecution(
        db,
        config,
        run,
        spec,
        provider,
        limiter_for(run.provider, pcfg, concurrency=concurrency),
        worker_id=worker_id,
        concurrency=slots,
        progress=progress,
        max_cost_usd=max_cost_usd,
        judge=judge,
        judges=judges,
    )
    seeded.total = execution.progress.total
    execution.progress = seeded
    if progress is not None:
        progress(seeded)
    try:
        status = await execution.execute(stored, stop)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt)) else "failed"
        finish_run(
            db,
            run_id,
            status,
            None if status == "interrupted" else f"{type(exc).__name__}: {exc}",
            price_known=price_known,
        )
        raise
    finally:
        if own_provider:
            await provider.aclose()
        for judge_provider in judge_providers:
            await judge_provider.aclose()
    if status == "lost":
        return summarize_run(db, run_id)
    return finish_run(
        db, run_id, status, execution.fatal if status == "failed" else None, price_known=price_known
    )


def finish_run(db: Database, run_id: int, status: str, error: str | None, *, price_known: bool) -> RunSummary:
    """Compute the run's totals from its stored results, write them with the final status."""
    from monitor.stats.estimate import percentile, run_score

    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        rows = session.execute(
            select(
                Result.sample_key,
                Result.score,
                Result.passed,
                Result.error_kind,
                Result.latency_ms,
                Result.input_tokens,
                Result.output_tokens,
                Result.cost_usd,
                Result.resolved_model,
                Result.system_fingerprint,
            ).where(Result.run_id == run_id)
        ).all()
        groups = {
            k: v
            for k, v in session.execute(
                select(Sample.key, Sample.group).where(Sample.suite_id == run.suite_id)
            )
        }
        estimate = run_score(((r.sample_key, r.score, r.error_kind is not None) for r in rows), groups)
        latencies = [r.latency_ms for r in rows if r.latency_ms is not None]
        answered = [r for r in rows if r.error_kind is None]
        costs = [r.cost_usd for r in rows]
        models = Counter(r.resolved_model for r in answered if r.resolved_model)
        fingerprints = Counter(r.system_fingerprint for r in answered if r.system_fingerprint)
        values = {
            "status": status,
            "error": error,
            "finished_at": utcnow() if status in ("done", "failed", "interrupted") else None,
            "samples_total": run.suite.sample_count * max(1, run.repeat),
            "passed": sum(1 for r in answered if r.passed),
            "failed": sum(1 for r in answered if r.passed is False),
            "errored": sum(1 for r in rows if r.error_kind is not None),
            "score": estimate.mean,
            "cost_usd": pricing.add_costs(costs) if rows else (0.0 if price_known else None),
            "input_tokens": sum(r.input_tokens or 0 for r in rows),
            "output_tokens": sum(r.output_tokens or 0 for r in rows),
            "latency_p50_ms": percentile(latencies, 50),
            "latency_p95_ms": percentile(latencies, 95),
            "resolved_model": models.most_common(1)[0][0] if models else None,
            "system_fingerprint": fingerprints.most_common(1)[0][0] if fingerprints else None,
        }
        if status != "running":
            values["claimed_by"] = None
        session.execute(update(Run).where(Run.id == run_id).values(**values))
    return summarize_run(db, run_id)


def summarize_run(db: Database, run_id: int) -> RunSummary:
    """The summary of a stored run (its interval recomputed from its results)."""
    from monitor.stats.estimate import run_score

    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        rows = session.execute(
            select(Result.sample_key, Result.score).where(
                Result.run_id == run_id, Result.error_kind.is_(None), Result.score.is_not(None)
            )
        ).all()
        groups = {
            k: v
            for k, v in session.execute(
                select(Sample.key, Sample.group).where(Sample.suite_id == run.suite_id)
            )
        }
        done = session.scalar(select(func.count(Result.id)).where(Result.run_id == run_id)) or 0
        estimate = run_score(((key, score, False) for key, score in rows), groups)
        return RunSummary(
            run_id=run.id,
            model_key=run.model_key,
            suite=run.suite.name,
            suite_version=run.suite.version,
            status=run.status,
            samples_total=run.samples_total,
            done=int(done),
            passed=run.passed,
            failed=run.failed,
            errored=run.errored,
            score=run.score,
            ci_low=estimate.ci.low if estimate.ci else None,
            ci_high=estimate.ci.high if estimate.ci else None,
            latency_p50_ms=run.latency_p50_ms,
            latency_p95_ms=run.latency_p95_ms,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=run.cost_usd,
            estimated_cost_usd=run.estimated_cost_usd,
            error=run.error,
        )


async def work_once(
    db: Database, config: Config, *, worker_id: str, stop: asyncio.Event | None = None
) -> RunSummary | None:
    """Claim one run and execute it; over budget it is recorded as skipped with its estimate.

    Returns None when nothing is queued. This is the daemon's worker entry point.
    """
    run_id = await asyncio.to_thread(claim_next_run, db, worker_id)
    if run_id is None:
        return None
    try:
        check = guard_run(db, config, run_id)
    except MonitorError as exc:
        return finish_run(db, run_id, "failed", str(exc), price_known=False)
    if not check.ok:
        with db.session() as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    status="skipped",
                    error=f"cost guard: {check.explain()}",
                    claimed_by=None,
                    finished_at=utcnow(),
                )
            )
        return summarize_run(db, run_id)
    return await execute_run(db, config, run_id, worker_id=worker_id, stop=stop)


def remaining_messages(db: Database, config: Config, run_id: int) -> tuple[SuiteSpec, Run, int]:
    """The run's spec, the run, and how many of its calls are not stored yet."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        stored = session.scalar(
            select(func.count(Result.id)).where(Result.run_id == run_id, Result.error_kind.is_(None))
        )
        session.expunge(run.suite)
        session.expunge(run)
    return resolve_suite_spec(db, config, run.suite), run, int(stored or 0)


def estimate_for_run(db: Database, config: Config, run_id: int) -> pricing.RunEstimate:
    """The cost estimate of what is left of a run (all of it for a new one)."""
    spec, run, stored = remaining_messages(db, config, run_id)
    params = {**(spec.params or {}), **(run.params or {})}
    full = pricing.estimate_run(
        config, run.model_key, (s.messages for s in spec.samples), params, repeat=run.repeat
    )
    if not stored or not full.calls:
        return full
    share = max(0.0, 1 - stored / full.calls)
    return pricing.RunEstimate(
        full.model_key,
        full.calls - stored,
        round(full.input_tokens * share),
        round(full.output_tokens * share),
        None if full.cost_usd is None else full.cost_usd * share,
    )


def guard_run(
    db: Database, config: Config, run_id: int, *, max_cost_usd: float | None = None
) -> pricing.BudgetCheck:
    """Estimate a run, store the estimate on it, and check it against the budget."""
    estimate = estimate_for_run(db, config, run_id)
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run_id).values(estimated_cost_usd=estimate.cost_usd))
        return pricing.check_budget(session, config, estimate, max_cost_usd=max_cost_usd, exclude_run=run_id)
