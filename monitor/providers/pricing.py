"""What a call or a run costs in USD at a model's price (config, catalogue or upper bound), and the budget."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.core import prices
from monitor.core.config import Config
from monitor.core.prices import PriceConfig, ResolvedPrice

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1600
"""An image's input tokens for estimates: about a 1,200 x 1,200 image at OpenAI's and Anthropic's rates."""
# Output tokens assumed per call when the suite's params set no max_tokens.
DEFAULT_OUTPUT_TOKENS = 256
UNKNOWN = "unknown"
# How an upper-bound price's source begins (see Config.upper_bound).
ESTIMATED_PREFIX = "estimated"
UPPER_BOUND_PREFIX = "estimated upper bound"


def call_cost(
    price: PriceConfig | None,
    input_tokens: int | None,
    output_tokens: int | None,
    *,
    cached_input_tokens: int | None = None,
    cache_write_tokens: int | None = None,
) -> float | None:
    """USD for one call; None when the price or the usage is unknown.

    `input_tokens` counts every input token; the cached reads and cache writes among them (as the provider
    reports them) cost their own rates, the input rate when the price sets none. Reasoning tokens are part
    of `output_tokens` in every provider's usage, so they cost the output rate.
    """
    if price is None or input_tokens is None or output_tokens is None:
        return None
    cached = min(cached_input_tokens or 0, input_tokens)
    written = min(cache_write_tokens or 0, input_tokens - cached)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    write_rate = price.input if price.cache_write is None else price.cache_write
    usd = (
        (input_tokens - cached - written) * price.input
        + cached * cached_rate
        + written * write_rate
        + output_tokens * price.output
    )
    return usd / 1_000_000


def add_costs(costs: Iterable[float | None]) -> float | None:
    """The sum, or None as soon as one part is unknown."""
    total = 0.0
    for cost in costs:
        if cost is None:
            return None
        total += cost
    return total


def format_cost(cost: float | None) -> str:
    """'$0.0123', or 'unknown' for a cost that cannot be computed."""
    if cost is None:
        return UNKNOWN
    return f"${cost:.4f}" if cost < 10 else f"${cost:,.2f}"


def estimate_prefix(source: str | None) -> str:
    """'at most ' before a cost at an upper-bound price, 'about ' at a price estimated from the model's
    line, '' at a known price (docs/pricing.md)."""
    if source is None or not source.startswith(ESTIMATED_PREFIX):
        return ""
    return "at most " if source.startswith(UPPER_BOUND_PREFIX) else "about "


def describe_cost(cost: float | None, source: str | None) -> str:
    """A cost and where its price came from: '$0.0123 (config)', 'at most $1.20 (estimated upper bound …)'."""
    if cost is None:
        return "cost unknown"
    if source is None:
        return format_cost(cost)
    return f"{estimate_prefix(source)}{format_cost(cost)} ({source})"


def estimate_tokens(messages: Sequence[dict[str, Any]], tools: Sequence[Any] = ()) -> int:
    """Input tokens of rendered messages (and tool definitions), approximated as characters / 4 plus a
    few per message; an image counts IMAGE_TOKENS, whatever its encoded size."""
    chars = sum(len(str(t)) for t in tools)
    images = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    images += 1
                else:
                    chars += len(str(part.get("text", ""))) if isinstance(part, dict) else len(str(part))
        else:
            chars += len(str(content or ""))
        chars += len(str(message.get("tool_calls") or ""))
    return chars // CHARS_PER_TOKEN + 4 * len(messages) + IMAGE_TOKENS * images


def output_tokens_for(params: dict[str, Any]) -> int:
    max_tokens = params.get("max_tokens")
    return int(max_tokens) if isinstance(max_tokens, int) and max_tokens > 0 else DEFAULT_OUTPUT_TOKENS


@dataclass(frozen=True)
class JudgeEstimate:
    """The verdicts a run asks of one judge model (one call per sample, judge grader and repeat) and
    their cost: prompt tokens in, the judge's reply cap out, at the judge model's full price."""

    model_key: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    price: ResolvedPrice

    def part(self, share: float) -> JudgeEstimate:
        """The share of these verdicts still to ask (a resumed run's)."""
        return JudgeEstimate(
            self.model_key,
            round(self.calls * share),
            round(self.input_tokens * share),
            round(self.output_tokens * share),
            self.cost_usd * share,
            self.price,
        )


def estimate_judge(
    config: Config, model_key: str, calls: int, input_tokens: int, output_tokens: int
) -> JudgeEstimate:
    """Price a judge model's verdicts: its price from [pricing] or the catalogue, else its upper bound."""
    price = config.price_for(model_key)
    cost = (input_tokens * price.input + output_tokens * price.output) / 1_000_000
    return JudgeEstimate(model_key, calls, input_tokens, output_tokens, cost, price)


@dataclass(frozen=True)
class RunEstimate:
    """The expected size and cost of a run (or of the part of it still to do): the model's calls and
    the judges' verdicts; `cost_usd`, their sum, is what the budgets are checked against."""

    model_key: str
    calls: int
    input_tokens: int
    output_tokens: int
    model_cost_usd: float
    price: ResolvedPrice
    judges: tuple[JudgeEstimate, ...] = ()

    @property
    def judge_calls(self) -> int:
        return sum(j.calls for j in self.judges)

    @property
    def judge_cost_usd(self) -> float:
        """The judges' verdicts (a bound when a judge's price is unknown)."""
        return sum(j.cost_usd for j in self.judges)

    @property
    def cost_usd(self) -> float:
        """The model's calls and the judges' verdicts: the total the budgets compare."""
        return self.model_cost_usd + self.judge_cost_usd

    @property
    def judge_estimated(self) -> bool:
        """Whether some judge's price is unknown (its cost is then a bound)."""
        return any(j.price.estimated for j in self.judges)

    @property
    def estimated(self) -> bool:
        """Whether some price in the estimate is unknown (the total is then a bound, not a cost)."""
        return self.price.estimated or self.judge_estimated

    @property
    def cost_text(self) -> str:
        """'$1.23 (catalogue (…))': the estimate and where its price came from; with judges, the total
        and its parts: 'at most $5.10 (model $0.10 (config); judge x:y at most $5.00 (estimated …))'."""
        if not self.judges:
            return describe_cost(self.cost_usd, self.price.source)
        prefixes = [
            estimate_prefix(self.price.source),
            *(estimate_prefix(j.price.source) for j in self.judges),
        ]
        prefix = "at most " if "at most " in prefixes else ("about " if "about " in prefixes else "")
        parts = [f"model {describe_cost(self.model_cost_usd, self.price.source)}"] + [
            f"judge {j.model_key} {describe_cost(j.cost_usd, j.price.source)}" for j in self.judges
        ]
        return f"{prefix}{format_cost(self.cost_usd)} ({'; '.join(parts)})"

    def part(self, stored: int) -> RunEstimate:
        """What is left once `stored` of the model's calls are stored (their verdicts with them)."""
        if not stored or not self.calls:
            return self
        share = max(0.0, 1 - stored / self.calls)
        return RunEstimate(
            self.model_key,
            self.calls - stored,
            round(self.input_tokens * share),
            round(self.output_tokens * share),
            self.model_cost_usd * share,
            self.price,
            tuple(j.part(share) for j in self.judges),
        )


def price_for(config: Config, model_key: str, *, batch: bool = False) -> ResolvedPrice:
    """The model's price; with `batch`, its batch-API price (the full one when no discount is known)."""
    if batch:
        price = prices.batch_resolve(config.pricing, config.providers, model_key)
        if price is not None:
            return price
    return config.price_for(model_key)


def estimate_run(
    config: Config,
    model_key: str,
    messages: Iterable[Sequence[dict[str, Any]]],
    params: dict[str, Any],
    *,
    repeat: int = 1,
    batch: bool = False,
    judges: Sequence[JudgeEstimate] = (),
) -> RunEstimate:
    """Estimate calls × (chars/4 input + max_tokens output) at the model's price (upper bound if unknown;
    the batch price with `batch`), plus the `judges`' verdicts (estimate_judge)."""
    per_call_output = output_tokens_for(params)
    calls = 0
    input_tokens = 0
    for sample_messages in messages:
        calls += repeat
        input_tokens += estimate_tokens(sample_messages) * repeat
    output_tokens = per_call_output * calls
    price = price_for(config, model_key, batch=batch)
    cost = (input_tokens * price.input + output_tokens * price.output) / 1_000_000
    return RunEstimate(model_key, calls, input_tokens, output_tokens, cost, price, tuple(judges))
