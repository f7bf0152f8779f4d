"""Graders: score a model's answer (text graders, match, refusal, tool_call, llm_judge, python)."""

from monitor.evals.graders.base import AnswerGrader, Grade, Grader, GraderError, SampleGrade, SyncGrader
from monitor.evals.graders.choice import ChoiceGrader, extract_letter
from monitor.evals.graders.custom import LLMJudgeGrader, PythonGrader
from monitor.evals.graders.numeric import NumericGrader, extract_answer
from monitor.evals.graders.registry import GRADER_TYPES, build_graders, describe, grade_sample
from monitor.evals.graders.structured import JsonGrader, extract_json
from monitor.evals.graders.text import ContainsGrader, ExactGrader, NotContainsGrader, RegexGrader
from monitor.evals.graders.tools import ToolCallGrader

__all__ = [
    "GRADER_TYPES",
    "AnswerGrader",
    "ChoiceGrader",
    "ContainsGrader",
    "ExactGrader",
    "Grade",
    "Grader",
    "GraderError",
    "JsonGrader",
    "LLMJudgeGrader",
    "NotContainsGrader",
    "NumericGrader",
    "PythonGrader",
    "RegexGrader",
    "SampleGrade",
    "SyncGrader",
    "ToolCallGrader",
    "build_graders",
    "describe",
    "extract_answer",
    "extract_json",
    "extract_letter",
    "grade_sample",
]
