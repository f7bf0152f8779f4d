"""One sample of a run: its request, then the call with retries and the grading, as a result row."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from monitor.core.prices import PriceConfig
from monitor.evals.graders import grade_sample
from monitor.evals.spec import Answer
from monitor.pipeline.run.turns import MAX_TURNS, answers_calls, combined, next_request
from monitor.providers import pricing
from monitor.providers.base import ChatRequest, Completion, Provider, ProviderError, ToolCall
from monitor.providers.breaker import OUTAGE_KINDS
from monitor.providers.limits import Limiter, limited_complete
from monitor.providers.retry import GaveUp, RetryPolicy, call_with_retries
from monitor.store.tables import utcnow

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec
    from monitor.evals.spec import SampleSpec

log = logging.getLogger(__name__)

# Errors after which every further call of the run would fail the same way: fail the run at once.
FATAL_KINDS = frozenset({"auth", "quota", "not_found"})
# Answers that are not the model's answer (docs/running.md "Outcomes"): stored as errors, never graded.
UNGRADED_OUTCOMES = {
    "refusal": "the model refused to answer",
    "content_filter": "the provider's content filter withheld or cut the answer",
    "truncated": "the answer was cut off before it ended (context window full or turn paused)",
}
_CHAT_PARAMS = ("max_tokens", "temperature", "seed")


def prompt_hash(
    messages: list[dict[str, Any]], params: dict[str, Any], request: dict[str, Any] | None = None
) -> str:
    """A digest of what was sent, so a result can be matched to the exact prompt and parameters (and
    the tools and output format, for samples that send them)."""
    sent: list[Any] = [messages, params] if request is None else [messages, params, request]
    blob = json.dumps(sent, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class WorkItem:
    """One call to make: a sample, which repeat of it, its request and its token estimate."""

    sample: SampleSpec
    repeat: int
    request: ChatRequest
    prompt_hash: str
    tokens: int


def work_items(
    spec: SuiteSpec,
    params: dict[str, Any],
    *,
    model_id: str,
    repeat: int,
    timeout_s: float,
    stored: set[tuple[str, int]],
    order: Sequence[str] | None = None,
) -> Iterator[WorkItem]:
    """The calls of a run not stored yet, built lazily (suites can be large): in suite order, or in the
    random `order` of sample keys an early-stopping run reads them in (its test needs that order)."""
    extra = {k: v for k, v in params.items() if k not in _CHAT_PARAMS}
    output_tokens = pricing.output_tokens_for(params)
    samples: Iterable[SampleSpec] = spec.samples
    if order is not None:
        by_key = {sample.key: sample for sample in spec.samples}
        samples = (by_key[key] for key in order)
    for sample in samples:
        todo = [r for r in range(repeat) if (sample.key, r) not in stored]
        if not todo:
            continue
        request = ChatRequest(
            model=model_id,
            messages=sample.messages,
            max_tokens=params.get("max_tokens"),
            temperature=params.get("temperature"),
            seed=params.get("seed"),
            timeout_s=timeout_s,
            extra=extra,
            tools=sample.tools,
            tool_choice=sample.tool_choice,
            response_format=sample.response_format,
        )
        digest = prompt_hash(sample.messages, params, sample.request)
        tokens = pricing.estimate_tokens(sample.messages, sample.tools) + output_tokens
        for index in todo:
            yield WorkItem(sample, index, request, digest, tokens)


class SampleCaller:
    """Turns a work item into its result row: a limited, retried call, then the suite's graders."""

    def __init__(
        self,
        spec: SuiteSpec,
        provider: Provider,
        limiter: Limiter,
        policy: RetryPolicy,
        *,
        run_id: int,
        price: PriceConfig | None,
        timeout_s: float,
        judge: Any,
        judges: dict[str, Any],
        should_stop: Callable[[], bool],
        on_fatal: Callable[[str], None],
        outage_pause_s: float,
        on_paused_too_long: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.provider = provider
        self.limiter = limiter
        self.policy = policy
        self.run_id = run_id
        self.price = price
        self.timeout_s = timeout_s
        self.judge = judge
        self.judges = judges
        self.should_stop = should_stop
        self.on_fatal = on_fatal
        self.outage_pause_s = outage_pause_s
        self.on_paused_too_long = on_paused_too_long
        self.clock = clock
        self.outage_since: float | None = None

    async def _call(self, item: WorkItem) -> Completion:
        return await limited_complete(
            self.provider, item.request, self.limiter, tokens=item.tokens, timeout_s=self.timeout_s
        )

    async def _conversation(self, item: WorkItem) -> tuple[Completion, int]:
        """The sample's answer over its turns: scripted tool results sent back while the model calls
        tools that have them (turns.py), usage and calls summed over the turns."""
        completion, attempts = await self._answer(item)
        request, latest = item.request, completion
        for _ in range(MAX_TURNS - 1):
            if not answers_calls(latest, item.sample.tool_results):
                break
            request = next_request(request, latest, item.sample.tool_results)
            latest, more = await self._answer(replace(item, request=request))
            completion, attempts = combined(completion, latest), attempts + more
        return completion, attempts

    async def _answer(self, item: WorkItem) -> tuple[Completion, int]:
        """The call with its retries; while the provider is down it waits for it, not giving up, for up to
        `outage_pause_s` (the account's breaker lets one probe through at a time meanwhile)."""
        while True:
            try:
                answer = await call_with_retries(
                    lambda: self._call(item), self.policy, should_stop=self.should_stop
                )
            except GaveUp as gave_up:
                if not self._waits_out(gave_up.error):
                    raise
                await self.limiter.breaker.step()
                continue
            self.outage_since = None
            return answer

    def _waits_out(self, error: ProviderError) -> bool:
        """Whether a sample that gave up on `error` should try again once the provider is back."""
        breaker = self.limiter.breaker
        if error.kind not in OUTAGE_KINDS or not breaker.in_outage or self.should_stop():
            return False
        now = self.clock()
        if self.outage_since is None:
            self.outage_since = now
            log.warning("run %d paused: %s (waiting for it to answer again)", self.run_id, error)
        if now - self.outage_since >= self.outage_pause_s:
            self.on_paused_too_long(
                f"paused {now - self.outage_since:.0f}s for an unreachable provider ({error}); "
                f"`model-monitor resume {self.run_id}` continues it"
            )
            return False
        return True

    async def row(self, item: WorkItem) -> dict[str, Any] | None:
        """The result row of one item; None when a stop cut its retries short (it stays to do)."""
        row: dict[str, Any] = {
            "run_id": self.run_id,
            "sample_key": item.sample.key,
            "repeat": item.repeat,
            "prompt_hash": item.prompt_hash,
            "created_at": utcnow(),
            "price_source": getattr(self.price, "source", None),
        }
        try:
            completion, attempts = await self._conversation(item)
        except GaveUp as gave_up:
            error = gave_up.error
            if error.retryable and self.should_stop():
                return None
            if error.kind in FATAL_KINDS:
                self.on_fatal(f"{error.kind}: {error}")
            row.update(
                output=None,
                tool_calls=None,
                score=None,
                passed=None,
                grades=[],
                error_kind=error.kind,
                error_message=str(error)[:2000],
                attempts=gave_up.attempts,
                latency_ms=None,
                input_tokens=None,
                output_tokens=None,
                cached_input_tokens=None,
                cache_write_tokens=None,
                reasoning_tokens=None,
                cost_usd=None if self.price is None else 0.0,
                finish_reason=None,
                resolved_model=None,
                system_fingerprint=None,
            )
            return row
        cost = pricing.call_cost(
            self.price,
            completion.input_tokens,
            completion.output_tokens,
            cached_input_tokens=completion.cached_input_tokens,
            cache_write_tokens=completion.cache_write_tokens,
        )
        row.update(
            output=completion.text,
            tool_calls=[c.as_dict() for c in completion.tool_calls] or None,
            attempts=attempts,
            latency_ms=completion.latency_ms,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            cached_input_tokens=completion.cached_input_tokens,
            cache_write_tokens=completion.cache_write_tokens,
            reasoning_tokens=completion.reasoning_tokens,
            finish_reason=completion.finish_reason,
            resolved_model=completion.resolved_model,
            system_fingerprint=completion.system_fingerprint,
        )
        refused = completion.refusal if completion.refusal is not None else completion.text
        if completion.outcome == "refusal" and any(g.type == "refusal" for g in self.spec.graders):
            # A suite that grades refusals grades the provider's own refusal too (its text is the answer).
            row.update(output=refused)
            return await self._graded(
                item, row, refused or "I can't help with that.", completion.tool_calls, cost
            )
        if completion.outcome in UNGRADED_OUTCOMES:
            row.update(
                output=refused,
                score=None,
                passed=None,
                grades=[],
                error_kind=completion.outcome,
                error_message=(
                    f"{UNGRADED_OUTCOMES[completion.outcome]} (finish_reason={completion.finish_reason}); "
                    "the output keeps what the model sent, and it is not graded"
                ),
                cost_usd=cost,
            )
            return row
        if not completion.text.strip() and completion.outcome == "length":
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
        return await self._graded(item, row, completion.text, completion.tool_calls, cost)

    async def _graded(
        self,
        item: WorkItem,
        row: dict[str, Any],
        text: str,
        tool_calls: tuple[ToolCall, ...],
        cost: float | None,
    ) -> dict[str, Any]:
        """The row completed with the graders' verdict, or with the grader's error."""
        try:
            graded = await grade_sample(
                self.spec.graders,
                Answer(text, tool_calls),
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
