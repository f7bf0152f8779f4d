"""Compare a suite's prompt variants: score per (model, variant), the best pair, the best prompt per model.

Whether the new model does best with a different variant than production is decided by the paired
test, never by the means alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.evals.variants import DEFAULT, split_name
from monitor.pipeline.compare.pairing import SuiteComparison, compare_runs
from monitor.pipeline.compare.wording import p_text, points, points_interval
from monitor.stats.verdicts import VERDICT_BETTER, PairedResult, with_verdicts
from monitor.store.statuses import COMPLETED

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.pipeline.compare.runs import RunStats
    from monitor.stats.estimate import ScoreEstimate

CANDIDATE = "candidate"
BASELINE = "baseline"


@dataclass
class VariantScore:
    """One (model, variant) cell: a finished run's mean grade on that variant, with its 95% interval."""

    role: str  # "candidate" or "baseline" (the production model)
    model_key: str
    variant: str  # "default" for the suite's own prompt
    suite: str  # the stored suite name, `support[cot]`
    run_id: int
    score: ScoreEstimate


@dataclass
class VariantGroup:
    """One suite's variants on the event: every cell, the best pair, and the answer to "does the new model
    need a different prompt than production?".

    `test` pairs the candidate on its best variant with the candidate on production's best variant
    (Holm-adjusted over every such test of the comparison); only its verdict "better" makes the
    difference significant, otherwise the sentence says "best observed".
    """

    suite: str
    variants: list[str]
    scores: list[VariantScore]
    best: VariantScore | None
    candidate_best: str | None
    production_best: str | None
    test: PairedResult | None
    significant: bool
    sentence: str
    detail: str | None


def _cells(
    comparisons: Sequence[SuiteComparison], production: Sequence[RunStats]
) -> dict[str, tuple[list[str], list[VariantScore]]]:
    """Per base name of every suite that has variants: the variants evaluated (default first) and the
    cells of their finished, scored runs."""
    seen: dict[str, set[str]] = {}
    cells: dict[str, list[VariantScore]] = {}
    varied: set[str] = set()
    sides: list[tuple[str, list[tuple[str, RunStats | None]]]] = [
        (c.suite, [(CANDIDATE, c.candidate), (BASELINE, c.baseline)]) for c in comparisons
    ]
    sides += [(stats.suite, [(BASELINE, stats)]) for stats in production]
    for suite, runs in sides:
        base, variant = split_name(suite)
        if variant is not None:
            varied.add(base)
        seen.setdefault(base, set()).add(variant or DEFAULT)
        for role, stats in runs:
            if stats is None or stats.status not in COMPLETED or stats.score.mean is None:
                continue
            cell = VariantScore(
                role, stats.model_key, variant or DEFAULT, stats.suite, stats.run_id, stats.score
            )
            cells.setdefault(base, []).append(cell)
    return {base: (_order(seen[base]), cells.get(base, [])) for base in sorted(varied)}


def _order(variants: set[str]) -> list[str]:
    return sorted(variants, key=lambda v: (v != DEFAULT, v))


def _best(cells: Sequence[VariantScore], order: list[str]) -> VariantScore | None:
    """The highest mean; a tie goes to the variant listed first (the default prompt first)."""
    scored = [c for c in cells if c.score.mean is not None]
    if not scored:
        return None
    return max(scored, key=lambda c: (c.score.mean or 0.0, -order.index(c.variant), c.role == CANDIDATE))


def _models(cells: Sequence[VariantScore], role: str) -> str:
    return ", ".join(dict.fromkeys(c.model_key for c in cells if c.role == role))


def compare_variants(
    session: Session,
    comparisons: Sequence[SuiteComparison],
    *,
    alpha: float,
    min_effect: float,
    production: Sequence[RunStats] = (),
) -> list[VariantGroup]:
    """The "Prompt variants" analysis of every suite with variants among `comparisons`; `production`
    adds baseline runs no comparison holds (beside a candidate run that did not finish).

    Per suite, the candidate on each other variant is paired with the candidate on production's best
    variant (same samples, the existing paired test); the tests of all suites form one Holm family,
    so picking the best observed variant afterwards cannot make a difference look significant.
    """
    groups = _cells(comparisons, production)
    planned: list[tuple[str, str, PairedResult]] = []
    for base, (order, cells) in groups.items():
        best = _best([c for c in cells if c.role == BASELINE], order)
        if best is None:
            continue
        own = {c.variant: c for c in cells if c.role == CANDIDATE}
        reference = own.get(best.variant)
        if reference is None:
            continue
        for variant, cell in own.items():
            if variant == best.variant:
                continue
            paired = compare_runs(
                session,
                cell.run_id,
                reference.run_id,
                alpha=alpha,
                min_effect=min_effect,
                across_variants=True,
            ).paired
            if paired is not None:
                planned.append((base, variant, paired))
    adjusted = with_verdicts([paired for _, _, paired in planned], alpha)
    tests = {(base, variant): paired for (base, variant, _), paired in zip(planned, adjusted, strict=True)}
    return [_group(base, order, cells, tests) for base, (order, cells) in groups.items()]


def _group(
    base: str, order: list[str], cells: list[VariantScore], tests: dict[tuple[str, str], PairedResult]
) -> VariantGroup:
    candidate = _best([c for c in cells if c.role == CANDIDATE], order)
    production = _best([c for c in cells if c.role == BASELINE], order)
    cand_best = candidate.variant if candidate is not None else None
    prod_best = production.variant if production is not None else None
    test = tests.get((base, cand_best)) if cand_best is not None and cand_best != prod_best else None
    significant = test is not None and test.verdict == VERDICT_BETTER
    sentence, detail = _wording(cells, cand_best, prod_best, test)
    return VariantGroup(
        suite=base,
        variants=order,
        scores=sorted(cells, key=lambda c: (c.role != CANDIDATE, c.model_key, order.index(c.variant))),
        best=_best(cells, order),
        candidate_best=cand_best,
        production_best=prod_best,
        test=test,
        significant=significant,
        sentence=sentence,
        detail=detail,
    )


def _wording(
    cells: Sequence[VariantScore],
    cand_best: str | None,
    prod_best: str | None,
    test: PairedResult | None,
) -> tuple[str, str | None]:
    """The one sentence of the section and, when a test was made, the line with its figures."""
    new, production = _models(cells, CANDIDATE), _models(cells, BASELINE)
    if cand_best is None and prod_best is None:
        return "No run on these variants has finished", None
    if cand_best is None:
        sentence = (
            f"Best observed: production ({production}) does best with `{prod_best}`; "
            f"{new} has no finished run on these variants"
        )
        return sentence, None
    if prod_best is None:
        sentence = (
            f"Best observed: {new} does best with `{cand_best}`; production has no finished run on these "
            "variants to compare with"
        )
        return sentence, None
    if cand_best == prod_best:
        return f"Best observed: {new} and production ({production}) both do best with `{cand_best}`", None
    both = f"{new} does best with `{cand_best}`; production ({production}) does best with `{prod_best}`"
    if test is None:
        untested = f"not tested: {new} has no two finished runs on `{cand_best}` and `{prod_best}` to pair"
        return f"Best observed: {both}; {untested}", None
    detail = _test_line(new, cand_best, prod_best, test)
    if test.verdict == VERDICT_BETTER:
        sentence = (
            f"{both}: on {new}, `{cand_best}` is significantly better than `{prod_best}`, so the new model "
            "needs a different prompt than production"
        )
    else:
        sentence = (
            f"Best observed: {both}; on {new} the difference is not significant ({test.verdict}), so "
            "there is no evidence that the new model needs a different prompt"
        )
    return sentence, detail


def _test_line(model: str, variant: str, reference: str, test: PairedResult) -> str:
    """`cot` against `default` on sim:x: +8.0 pts (95% CI +2.0 to +14.0), p = 0.004 (Holm-adjusted ...)."""
    level = f"{test.ci_level * 100:.1f}".rstrip("0").rstrip(".")
    text = (
        f"`{variant}` against `{reference}` on {model}: {points(test.delta)} ({level}% CI "
        f"{points_interval(test.ci)}), {p_text(test.p_value)}"
    )
    if test.p_adjusted is not None and test.family_size > 1:
        text += f" (Holm-adjusted {p_text(test.p_adjusted)} over {test.family_size} variant comparisons)"
    return f"{text}; {test.n} paired samples, {test.test}: {test.verdict}"
