"""The "Prompt variants" tables of an event as display strings, shared by the event page and its e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.pipeline.report.formats import fmt_interval, fmt_pct
from monitor.pipeline.report.text import clip

if TYPE_CHECKING:
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.pipeline.compare.variants import VariantGroup, VariantScore

NAME_LIMIT = 200
SENTENCE_LIMIT = 1_000
ROLE_LABELS = {"candidate": "new model", "baseline": "production"}


@dataclass
class VariantCell:
    """One (model, variant) mean grade: `71.3%` with its 95% interval; `best` marks the best pair."""

    score: str
    interval: str
    best: bool


@dataclass
class VariantRow:
    """One model's mean grade on each variant of the suite, in the table's column order."""

    role: str
    model: str
    cells: list[VariantCell]


@dataclass
class VariantTable:
    """One suite's variants: the table, the best pair, and the sentence on the new model's best prompt."""

    suite: str
    variants: list[str]
    rows: list[VariantRow]
    best: str | None
    sentence: str
    detail: str | None
    significant: bool


def _safe(text: str, limit: int = NAME_LIMIT) -> str:
    return clip(text, limit).text


def _cell(score: VariantScore | None, best: VariantScore | None) -> VariantCell:
    if score is None:
        return VariantCell("—", "", False)
    return VariantCell(fmt_pct(score.score.mean), fmt_interval(score.score.ci), score is best)


def _table(group: VariantGroup) -> VariantTable:
    models: dict[tuple[str, str], dict[str, VariantScore]] = {}
    for score in group.scores:
        models.setdefault((score.role, score.model_key), {})[score.variant] = score
    rows = [
        VariantRow(
            role=ROLE_LABELS.get(role, role),
            model=_safe(model),
            cells=[_cell(cells.get(variant), group.best) for variant in group.variants],
        )
        for (role, model), cells in models.items()
    ]
    best = None
    if group.best is not None:
        best = (
            f"{_safe(group.best.model_key)} with `{_safe(group.best.variant)}`: "
            f"{fmt_pct(group.best.score.mean)}"
        )
    return VariantTable(
        suite=_safe(group.suite),
        variants=[_safe(v) for v in group.variants],
        rows=rows,
        best=best,
        sentence=_safe(group.sentence, SENTENCE_LIMIT),
        detail=_safe(group.detail, SENTENCE_LIMIT) if group.detail else None,
        significant=group.significant,
    )


def variant_tables(comparison: EventComparison | None) -> list[VariantTable]:
    """A table per suite with prompt variants in the comparison (none without a comparison)."""
    return [_table(group) for group in comparison.variants] if comparison is not None else []
