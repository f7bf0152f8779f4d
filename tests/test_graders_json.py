"""The json grader: JSON found in fences or prose, structured outputs, schema violations, target fields."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.graders import Grade, SyncGrader, build_graders, grade_sample
from monitor.evals.spec import Answer, SampleSpec
from monitor.providers.base import ToolCall

SCHEMA = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
}


def grade(output: str, target: Any = None, **options: Any) -> Grade:
    (grader,) = build_graders([{"type": "json", **options}], source="suite.yaml")
    assert isinstance(grader, SyncGrader)
    sample = SampleSpec("s1", [{"role": "user", "content": "q"}], target, None, None, {}, "t.jsonl:1")
    return grader.grade(output, sample)


def test_plain_json_passes() -> None:
    assert grade('{"name": "Ann", "age": 41}').passed


def test_json_in_a_fenced_block_passes() -> None:
    assert grade(
        'Here you go:\n```json\n{"name": "Ann", "age": 41}\n```\nAnything else?', schema=SCHEMA
    ).passed


def test_json_surrounded_by_prose_passes() -> None:
    assert grade('Sure! {"name": "Ann", "age": 41} Hope that helps {with braces}.', schema=SCHEMA).passed


def test_prose_without_json_fails() -> None:
    result = grade("The name is Ann and she is 41.")
    assert not result.passed
    assert result.detail == "no JSON object in the answer"


def test_broken_json_in_a_fence_fails_with_the_parse_error() -> None:
    result = grade('```json\n{"name": "Ann", "age": }\n```')
    assert not result.passed
    assert "not valid JSON" in result.detail


def test_schema_violation_names_the_field() -> None:
    result = grade('{"name": "Ann", "age": "forty-one"}', schema=SCHEMA)
    assert not result.passed
    assert "schema violation at age" in result.detail


def test_missing_required_field_fails_the_schema() -> None:
    assert not grade('{"name": "Ann"}', schema=SCHEMA).passed


def test_invalid_schema_is_a_suite_error_at_load() -> None:
    with pytest.raises(SuiteError, match=r"graders\[0\]\.schema: invalid JSON Schema"):
        build_graders([{"type": "json", "schema": {"type": "objekt"}}], source="suite.yaml")


def test_match_target_compares_strings_case_insensitively_after_strip() -> None:
    assert grade(
        '{"city": " paris ", "zip": 75001, "extra": 1}', {"city": "Paris", "zip": 75001}, match_target=True
    ).passed


def test_match_target_fails_on_a_wrong_field() -> None:
    result = grade('{"city": "Lyon", "zip": 75001}', {"city": "Paris", "zip": 75001}, match_target=True)
    assert not result.passed
    assert "field 'city'" in result.detail


def test_match_target_fails_on_a_missing_field() -> None:
    result = grade('{"city": "Paris"}', {"city": "Paris", "zip": 75001}, match_target=True)
    assert result.detail == "missing field 'zip'"


def test_match_target_does_not_take_a_number_for_a_boolean() -> None:
    assert not grade('{"active": 1}', {"active": True}, match_target=True).passed


def test_match_target_accepts_a_json_string_target() -> None:
    assert grade('{"city": "Paris"}', '{"city": "paris"}', match_target=True).passed


def test_match_target_compares_numbers_by_value() -> None:
    assert grade('{"total": 12.0}', {"total": 12}, match_target=True).passed


def graded_answer(answer: Answer, target: Any = None, **options: Any) -> Grade:
    """The json grader's verdict on a whole answer, through grade_sample as the runner grades."""
    graders = build_graders([{"type": "json", **options}], source="suite.yaml")
    sample = SampleSpec("s1", [{"role": "user", "content": "q"}], target, None, None, {}, "t.jsonl:1")
    (result,) = asyncio.run(grade_sample(graders, answer, sample, pass_threshold=1.0)).grades
    return result


def test_a_structured_output_is_graded_as_the_answers_json() -> None:
    structured = Answer(json.dumps({"name": "Ann", "age": 41}))
    result = graded_answer(structured, {"name": "ann"}, schema=SCHEMA, match_target=True)
    assert (result.passed, result.detail) == (True, "valid JSON, fields match")


def test_a_structured_output_violating_the_schema_fails() -> None:
    result = graded_answer(Answer(json.dumps({"name": "Ann", "age": -1})), schema=SCHEMA)
    assert not result.passed
    assert "schema violation at age" in result.detail


def test_json_in_prose_is_still_found_in_the_answers_text() -> None:
    prose = Answer('Extracted: {"name": "Ann", "age": 41}. Let me know if you need more.')
    assert graded_answer(prose, schema=SCHEMA).passed


def test_a_tool_calls_arguments_are_not_the_answers_json() -> None:
    call = ToolCall("call_1", "save_contact", json.dumps({"name": "Ann", "age": 41}))
    result = graded_answer(Answer("", (call,)), schema=SCHEMA)
    assert (result.passed, result.detail) == (False, "no JSON object in the answer")
