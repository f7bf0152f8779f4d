"""Grader types by name: build a suite's graders from YAML once, then grade answers with them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.core.errors import SuiteError, suggest
from monitor.evals.graders.base import (
    AnswerGrader,
    Grade,
    Grader,
    GraderError,
    Options,
    SampleGrade,
    SyncGrader,
)
from monitor.evals.graders.choice import ChoiceGrader
from monitor.evals.graders.custom import PYTHON_GRADER_TIMEOUT_S, LLMJudgeGrader, PythonGrader
from monitor.evals.graders.match import IncludesGrader, MatchGrader
from monitor.evals.graders.numeric import NumericGrader
from monitor.evals.graders.refusal import RefusalGrader
from monitor.evals.graders.structured import JsonGrader
from monitor.evals.graders.text import ContainsGrader, ExactGrader, NotContainsGrader, RegexGrader
from monitor.evals.graders.tools import ArgumentGraderType, ToolCallGrader

if TYPE_CHECKING:
    from monitor.evals.judge import Judge
    from monitor.evals.spec import Answer, SampleSpec

SIMPLE_TYPES: dict[str, type[Any]] = {
    cls.type: cls
    for cls in (
        ExactGrader,
        ContainsGrader,
        NotContainsGrader,
        RegexGrader,
        JsonGrader,
        NumericGrader,
        ChoiceGrader,
        MatchGrader,
        IncludesGrader,
        RefusalGrader,
    )
}
# Text graders a tool_call grader may apply to one argument's value (`argument_graders`).
ARGUMENT_TYPES: dict[str, ArgumentGraderType] = {
    cls.type: cls
    for cls in (
        ExactGrader,
        ContainsGrader,
        NotContainsGrader,
        RegexGrader,
        JsonGrader,
        NumericGrader,
        MatchGrader,
        IncludesGrader,
    )
}
GRADER_TYPES = sorted([*SIMPLE_TYPES, LLMJudgeGrader.type, PythonGrader.type, ToolCallGrader.type])
_PASS_EPSILON = 1e-9


def build_graders(
    specs: list[dict[str, Any]], *, source: str, judge_model: str | None = None
) -> list[Grader]:
    """Validate and build graders (regexes, schemas and imports done here, once).

    `source` is the suite file named in errors (`graders[i].key`); `judge_model` is the suite's
    default judge for llm_judge graders that name none.
    """
    if not isinstance(specs, list) or not specs:
        raise SuiteError("graders: expected a non-empty list of graders, e.g. [{type: exact}]", path=source)
    graders: list[Grader] = []
    names: set[str] = set()
    counts: dict[str, int] = {}
    for index, raw in enumerate(specs):
        if not isinstance(raw, dict):
            line = getattr(specs, "item_lines", {}).get(index)
            raise SuiteError(
                f"graders[{index}]: expected a mapping such as {{type: exact}}", path=source, line=line
            )
        opts = Options(raw, index=index, source=source)
        kind = opts.string("type", required=True)
        assert kind is not None
        if kind not in GRADER_TYPES:
            raise opts.error("type", f"unknown grader type {kind!r}" + suggest(kind, GRADER_TYPES))
        weight = opts.number("weight", 1.0, positive=True)
        counts[kind] = counts.get(kind, 0) + 1
        name = opts.string("name") or (kind if counts[kind] == 1 else f"{kind}#{counts[kind]}")
        if name in names:
            raise opts.error("name", f"two graders are named {name!r}; give each a distinct `name`")
        names.add(name)
        grader: Grader
        if kind == LLMJudgeGrader.type:
            grader = LLMJudgeGrader(name, weight, opts, default_model=judge_model)
        elif kind == PythonGrader.type:
            grader = PythonGrader(name, weight, opts, search_dir=Path(source).parent)
        elif kind == ToolCallGrader.type:
            grader = ToolCallGrader(name, weight, opts, argument_types=ARGUMENT_TYPES)
        else:
            grader = SIMPLE_TYPES[kind](name, weight, opts)
        opts.finish()
        graders.append(grader)
    return graders


def describe(graders: Sequence[Grader]) -> list[dict[str, Any]]:
    """The graders as plain data (type, name, weight, normalised options) for hashing and storage."""
    return [{"type": g.type, "name": g.name, "weight": g.weight, **g.spec} for g in graders]


def _judge_for(grader: LLMJudgeGrader, judge: Judge | None, judges: Mapping[str, Judge] | None) -> Judge:
    if grader.model is not None:
        if judges and grader.model in judges:
            return judges[grader.model]
        if judge is not None and judge.model_key == grader.model:
            return judge
        given = judge.model_key if judge is not None else "none"
        raise GraderError(
            f"grader {grader.name} wants judge model {grader.model}, but the judge given is {given}"
        )
    if judge is None:
        raise GraderError(
            f"grader {grader.name} needs a judge model: set `judge: {{model: provider:model}}` in the suite "
            "or [judge] model in monitor.toml"
        )
    return judge


async def grade_sample(
    graders: Sequence[Grader],
    answer: Answer,
    sample: SampleSpec,
    *,
    pass_threshold: float,
    judge: Judge | None = None,
    judges: Mapping[str, Judge] | None = None,
    python_timeout: float = PYTHON_GRADER_TIMEOUT_S,
) -> SampleGrade:
    """Grade one answer with every grader: score = weighted mean, passed = score >= pass_threshold.

    Text graders read `answer.text`; tool_call reads `answer.tool_calls`; llm_judge reads both.

    `judge` serves llm_judge graders without a model of their own (and any whose model it is);
    `judges` maps other judge model keys to their Judge. Raises GraderError (an error, not a failure).
    """
    grades: list[Grade] = []
    weighted = 0.0
    total_weight = 0.0
    judge_cost: float | None = 0.0
    judge_in = judge_out = 0
    for grader in graders:
        if isinstance(grader, PythonGrader):
            grade = await grader.grade_bounded(answer.text, sample, python_timeout)
        elif isinstance(grader, SyncGrader):
            grade = grader.grade(answer.text, sample)
        elif isinstance(grader, AnswerGrader):
            grade = grader.grade(answer, sample)
        else:
            assert isinstance(grader, LLMJudgeGrader)
            grade, verdict = await grader.grade(answer, sample, _judge_for(grader, judge, judges))
            judge_in += verdict.input_tokens
            judge_out += verdict.output_tokens
            judge_cost = (
                None if judge_cost is None or verdict.cost_usd is None else judge_cost + verdict.cost_usd
            )
        grades.append(grade)
        weighted += grade.score * grader.weight
        total_weight += grader.weight
    score = weighted / total_weight if total_weight else 0.0
    passed = score >= pass_threshold - _PASS_EPSILON
    return SampleGrade(score, passed, grades, judge_cost, judge_in, judge_out)
