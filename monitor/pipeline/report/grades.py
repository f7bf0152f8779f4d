"""A result's status and grades as a run's report page lists them."""

from __future__ import annotations

from typing import Any

from monitor.pipeline.report.formats import fmt_score
from monitor.pipeline.report.text import ERROR_TEXT_LIMIT, clip
from monitor.pipeline.report.views import GradeLine
from monitor.store.tables import Result


def status_of(result: Result) -> str:
    """passed, failed, or errored (no score: the answer errored or could not be graded)."""
    if result.error_kind is not None or result.score is None:
        return "errored"
    return "passed" if result.passed else "failed"


def grade_lines(grades: list[Any]) -> list[GradeLine]:
    """Each stored grade as a line: grader, score, verdict, reason, clipped (graders' text is untrusted)."""
    lines = []
    for grade in grades or []:
        if not isinstance(grade, dict):
            lines.append(GradeLine("grade", "", None, clip(grade, ERROR_TEXT_LIMIT)))
            continue
        name = grade.get("grader") or grade.get("type") or grade.get("name") or "grade"
        detail = next(
            (grade[k] for k in ("reason", "reasoning", "explanation", "detail", "message") if grade.get(k)),
            None,
        )
        score = grade.get("score")
        passed = grade.get("passed")
        lines.append(
            GradeLine(
                name=str(name),
                score=fmt_score(score) if isinstance(score, int | float) else "",
                passed=passed if isinstance(passed, bool) else None,
                detail=clip(detail, ERROR_TEXT_LIMIT) if detail is not None else None,
            )
        )
    return lines
