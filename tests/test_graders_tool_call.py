"""The tool_call grader: names, arguments (subset, exact, schema, per argument), order, count, no call."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.graders import AnswerGrader, Grade, build_graders, describe, grade_sample
from monitor.evals.loader import load_suite
from monitor.evals.spec import Answer, SampleSpec
from monitor.providers.base import ToolCall

ORDER = {"name": "get_order", "arguments": {"order_id": "A1234"}}
REFUND = {"name": "refund", "arguments": {"order_id": "A1234", "amount": 19.99}}


def call(name: str, arguments: Any = None, *, raw: str | None = None) -> ToolCall:
    """A model's tool call; `raw` is the arguments text as sent (for invalid JSON)."""
    text = raw if raw is not None else json.dumps(arguments if arguments is not None else {})
    return ToolCall(f"call_{name}", name, text)


def sample(target: Any = None) -> SampleSpec:
    return SampleSpec("s1", [{"role": "user", "content": "q"}], target, None, None, {}, "t.jsonl:1")


def grader(**options: Any) -> AnswerGrader:
    (built,) = build_graders([{"type": "tool_call", **options}], source="suite.yaml")
    assert isinstance(built, AnswerGrader)
    return built


def grade(target: Any, *calls: ToolCall, text: str = "", **options: Any) -> Grade:
    return grader(**options).grade(Answer(text, calls), sample(target))


def write_suite(directory: Path, grader_yaml: str, samples: str) -> Path:
    path = directory / "s.yaml"
    text = f"""\
        prompt: {{user: "x"}}
        graders:
          - {grader_yaml}
        samples:
        """
    path.write_text(textwrap.dedent(text) + samples + "\n")
    return path


# --- arguments: subset, exact, schema ----------------------------------------------------------


def test_the_expected_call_passes() -> None:
    result = grade(ORDER, call("get_order", {"order_id": "A1234"}))
    assert (result.score, result.passed, result.detail) == (1.0, True, "called get_order")


def test_an_extra_argument_passes_as_a_subset() -> None:
    assert grade(ORDER, call("get_order", {"order_id": "A1234", "verbose": True})).passed


def test_an_extra_argument_fails_exact_arguments() -> None:
    result = grade(ORDER, call("get_order", {"order_id": "A1234", "verbose": True}), arguments_match="exact")
    assert (result.score, result.passed) == (0.0, False)
    assert "get_order: extra argument 'verbose'" in result.detail


def test_a_wrong_argument_value_fails_and_says_which() -> None:
    result = grade(ORDER, call("get_order", {"order_id": "B9999"}))
    assert not result.passed
    assert result.detail == (
        '0/1 expected calls matched: get_order: argument \'order_id\' is "B9999", expected "A1234"'
    )


def test_argument_strings_compare_case_sensitively() -> None:
    assert not grade(ORDER, call("get_order", {"order_id": "a1234"})).passed


def test_a_number_argument_does_not_match_a_boolean() -> None:
    assert not grade({"name": "set", "arguments": {"on": True}}, call("set", {"on": 1})).passed


def test_a_nested_extra_key_fails_exact_arguments() -> None:
    target = {"name": "ship", "arguments": {"address": {"city": "Paris"}}}
    made = call("ship", {"address": {"city": "Paris", "zip": "75001"}})
    assert grade(target, made).passed
    assert not grade(target, made, arguments_match="exact").passed


def test_the_wrong_tool_is_missing_the_expected_one() -> None:
    result = grade(ORDER, call("refund", {"order_id": "A1234"}))
    assert result.detail == "0/1 expected calls matched: missing get_order"


def test_a_target_without_arguments_accepts_any_arguments() -> None:
    assert grade({"name": "escalate"}, call("escalate", {"reason": "angry customer"})).passed


def test_invalid_json_arguments_fail_saying_so() -> None:
    result = grade(ORDER, call("get_order", raw='{"order_id": "A1234"'))
    assert not result.passed
    assert "get_order: arguments are not valid JSON" in result.detail


def test_arguments_that_are_not_an_object_fail() -> None:
    result = grade(ORDER, call("get_order", raw='["A1234"]'))
    assert "arguments are not a JSON object" in result.detail


def test_blank_arguments_are_a_call_without_arguments() -> None:
    assert grade({"name": "escalate"}, call("escalate", raw="")).passed
    assert not grade(ORDER, call("get_order", raw="")).passed


def test_schema_mode_passes_arguments_that_validate() -> None:
    schema = {
        "type": "object",
        "required": ["order_id"],
        "properties": {"order_id": {"type": "string", "pattern": "^A[0-9]{4}$"}},
    }
    target = {"name": "get_order", "arguments": schema}
    assert grade(target, call("get_order", {"order_id": "A7777"}), arguments_match="schema").passed


def test_schema_mode_fails_with_the_violation() -> None:
    schema = {"type": "object", "properties": {"order_id": {"type": "string", "pattern": "^A[0-9]{4}$"}}}
    target = {"name": "get_order", "arguments": schema}
    result = grade(target, call("get_order", {"order_id": "Z1"}), arguments_match="schema")
    assert not result.passed
    assert "schema violation at order_id" in result.detail


# --- argument graders --------------------------------------------------------------------------


def test_a_numeric_argument_grader_allows_its_tolerance() -> None:
    options = {"argument_graders": {"amount": {"type": "numeric", "tolerance": 0.01}}}
    assert grade(REFUND, call("refund", {"order_id": "A1234", "amount": 19.995}), **options).passed
    result = grade(REFUND, call("refund", {"order_id": "A1234", "amount": 25}), **options)
    assert not result.passed
    assert "argument 'amount': 25" in result.detail


def test_a_numeric_argument_grader_reads_a_number_sent_as_text() -> None:
    options = {"argument_graders": {"amount": {"type": "numeric"}}}
    assert grade(REFUND, call("refund", {"order_id": "A1234", "amount": "$19.99"}), **options).passed


def test_a_match_argument_grader_replaces_the_exact_comparison() -> None:
    options = {"argument_graders": {"order_id": {"type": "match", "location": "exact"}}}
    assert grade(ORDER, call("get_order", {"order_id": " a1234."}), **options).passed
    assert not grade(ORDER, call("get_order", {"order_id": "A12345"}), **options).passed


def test_an_argument_grader_with_its_own_value_checks_an_argument_the_target_does_not_name() -> None:
    options = {"argument_graders": {"reason": {"type": "includes", "value": "damaged"}}}
    target = {"name": "refund", "arguments": {"order_id": "A1234"}}
    assert grade(target, call("refund", {"order_id": "A1234", "reason": "Item DAMAGED"}), **options).passed
    result = grade(target, call("refund", {"order_id": "A1234", "reason": "changed mind"}), **options)
    assert "argument 'reason': includes none of 'damaged'" in result.detail


def test_an_argument_graded_by_a_grader_counts_as_expected_in_exact_mode() -> None:
    options = {"arguments_match": "exact", "argument_graders": {"reason": {"type": "regex", "pattern": "."}}}
    target = {"name": "refund", "arguments": {"order_id": "A1234"}}
    assert grade(target, call("refund", {"order_id": "A1234", "reason": "late"}), **options).passed


def test_a_missing_graded_argument_fails() -> None:
    options = {"argument_graders": {"amount": {"type": "numeric"}}}
    result = grade(REFUND, call("refund", {"order_id": "A1234"}), **options)
    assert "refund: missing argument 'amount'" in result.detail


# --- several calls: order and count ------------------------------------------------------------


def test_the_right_tool_called_twice_passes_at_least() -> None:
    made = (call("get_order", {"order_id": "A1234"}), call("get_order", {"order_id": "A1234"}))
    assert grade(ORDER, *made).passed


def test_the_right_tool_called_twice_fails_an_exact_count() -> None:
    made = (call("get_order", {"order_id": "A1234"}), call("get_order", {"order_id": "A1234"}))
    result = grade(ORDER, *made, count="exact")
    assert (result.score, result.passed) == (0.5, False)
    assert result.detail == "1/1 expected calls matched: get_order called again"


def test_an_unexpected_extra_call_fails_an_exact_count() -> None:
    result = grade(ORDER, call("get_order", {"order_id": "A1234"}), call("refund"), count="exact")
    assert result.detail == "1/1 expected calls matched: extra call refund"


def test_calls_in_any_order_pass_by_default() -> None:
    made = (call("refund", REFUND["arguments"]), call("get_order", ORDER["arguments"]))
    result = grade([ORDER, REFUND], *made)
    assert (result.score, result.passed) == (1.0, True)


def test_the_wrong_order_fails_with_order_true() -> None:
    made = (call("refund", REFUND["arguments"]), call("get_order", ORDER["arguments"]))
    result = grade([ORDER, REFUND], *made, order=True)
    assert (result.score, result.passed) == (0.5, False)
    assert "out of order: expected get_order, refund, got refund, get_order" in result.detail


def test_the_right_order_passes_with_other_calls_between() -> None:
    made = (call("get_order", ORDER["arguments"]), call("escalate"), call("refund", REFUND["arguments"]))
    assert grade([ORDER, REFUND], *made, order=True).detail == "called get_order, refund in order"


def test_one_of_two_expected_calls_scores_half() -> None:
    result = grade([ORDER, REFUND], call("get_order", ORDER["arguments"]))
    assert (result.score, result.passed) == (0.5, False)
    assert result.detail == "1/2 expected calls matched: missing refund"


def test_a_call_expected_twice_needs_two_calls() -> None:
    result = grade([ORDER, ORDER], call("get_order", ORDER["arguments"]))
    assert result.detail == "1/2 expected calls matched: get_order called too few times"


def test_matching_pairs_calls_to_the_expectations_they_fit_best() -> None:
    loose = {"name": "get_order"}
    made = (call("get_order", ORDER["arguments"]), call("get_order", {"order_id": "B1"}))
    assert grade([loose, ORDER], *made).passed


# --- no call, and text instead of a call -------------------------------------------------------


@pytest.mark.parametrize("target", [[], {"none": True}])
def test_no_call_expected_passes_a_text_answer(target: Any) -> None:
    assert grade(target, text="Your order has shipped.").passed


@pytest.mark.parametrize("target", [[], {"none": True}])
def test_no_call_expected_but_one_made_fails(target: Any) -> None:
    result = grade(target, call("refund", {"order_id": "A1234"}))
    assert (result.score, result.passed, result.detail) == (0.0, False, "expected no tool call, got refund")


def test_none_true_in_the_options_needs_no_target() -> None:
    assert grader(none=True).check_sample(sample()) is None
    assert not grader(none=True).grade(Answer("", (call("escalate"),)), sample()).passed


def test_a_text_answer_when_a_call_was_expected_fails() -> None:
    result = grade(ORDER, text="I have looked up order A1234: it has shipped.")
    assert (result.score, result.passed) == (0.0, False)
    assert result.detail.startswith("expected get_order, got no tool call; the model answered in text")


def test_the_expected_call_from_the_options_overrides_the_target() -> None:
    options = {"tool": "refund", "arguments": {"order_id": "A1234"}}
    assert grade("not a call spec", call("refund", {"order_id": "A1234", "amount": 5}), **options).passed


# --- through grade_sample, with text graders beside it -----------------------------------------


def test_grade_sample_gives_text_graders_the_text_and_tool_call_the_calls() -> None:
    graders = build_graders(
        [{"type": "tool_call", "tool": "get_order"}, {"type": "contains", "values": ["checking"]}],
        source="suite.yaml",
    )
    answer = Answer("Let me start checking.", (call("get_order", {"order_id": "A1"}),))
    graded = asyncio.run(grade_sample(graders, answer, sample(), pass_threshold=1.0))
    assert [g.passed for g in graded.grades] == [True, True]


def test_the_described_options_build_the_same_grader_again() -> None:
    for options in (
        {"tool": "refund", "argument_graders": {"amount": {"type": "numeric", "tolerance": 1}}},
        {"none": True},
        {"order": True, "count": "exact", "arguments_match": "exact"},
    ):
        first = build_graders([{"type": "tool_call", **options}], source="suite.yaml")
        again = build_graders(describe(first), source="stored")
        assert describe(again) == describe(first)


# --- load errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grader_yaml", "message"),
    [
        ("{type: tool_call, arguments_match: fuzzy}", r"graders\[0\]\.arguments_match: unknown mode 'fuzzy'"),
        ("{type: tool_call, count: twice}", r"graders\[0\]\.count: unknown count 'twice'"),
        ("{type: tool_call, oder: true}", r"graders\[0\]\.oder: unknown option; did you mean 'order'"),
        ("{type: tool_call, none: true, tool: refund}", r"graders\[0\]\.tool: does not apply with none"),
        ("{type: tool_call, arguments: {a: 1}}", r"graders\[0\]\.arguments: needs `tool`"),
        (
            "{type: tool_call, argument_graders: {amount: {type: llm_judge}}}",
            r"graders\[0\]\.argument_graders\.amount\.type: 'llm_judge' cannot grade an argument",
        ),
        (
            "{type: tool_call, argument_graders: {amount: {type: numeric, tolerence: 1}}}",
            r"graders\[0\]\.argument_graders\.amount\.tolerence: unknown option; did you mean 'tolerance'",
        ),
        (
            "{type: tool_call, arguments_match: schema, tool: f, arguments: {type: objekt}}",
            r"graders\[0\]\.arguments: f: the arguments are not a valid JSON Schema",
        ),
    ],
)
def test_a_bad_option_is_a_load_error_naming_the_file_the_key_and_the_line(
    tmp_path: Path, grader_yaml: str, message: str
) -> None:
    samples = "  - {id: a, target: {name: get_order}}"
    with pytest.raises(SuiteError, match=rf"s\.yaml:3: {message}") as info:
        load_suite(write_suite(tmp_path, grader_yaml, samples))
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("get_order", r"target: \"get_order\" is not a call; a target is \{name, arguments\}, a list"),
        ("{tool: get_order}", r"target\.tool: not a call key"),
        ("{name: get_order, arguments: [A1]}", r"target\.arguments: must be a mapping"),
        ("[{name: get_order}, {name: ''}]", r"target\[1\]\.name: must be the function's name"),
        ("{none: false}", r"target\.none: must be true, got false"),
    ],
)
def test_a_target_that_is_not_a_call_spec_is_a_load_error_naming_the_file_the_key_and_the_line(
    tmp_path: Path, target: str, message: str
) -> None:
    samples = f"  - {{id: first, target: {{name: get_order}}}}\n  - {{id: bad, target: {target}}}"
    with pytest.raises(
        SuiteError, match=rf"s\.yaml: sample 'bad' \(\S*s\.yaml:6\): graders\[0\] \(tool_call\): {message}"
    ):
        load_suite(write_suite(tmp_path, "{type: tool_call}", samples))


def test_a_sample_without_a_target_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="the tool_call grader needs a target but the sample has none"):
        load_suite(write_suite(tmp_path, "{type: tool_call}", "  - {id: a}"))


def test_an_invalid_schema_target_is_a_load_error(tmp_path: Path) -> None:
    samples = "  - {id: a, target: {name: f, arguments: {type: objekt}}}"
    with pytest.raises(SuiteError, match=r"target: f: the arguments are not a valid JSON Schema"):
        load_suite(write_suite(tmp_path, "{type: tool_call, arguments_match: schema}", samples))


def test_an_argument_grader_target_of_the_wrong_kind_is_a_load_error(tmp_path: Path) -> None:
    samples = "  - {id: a, target: {name: refund, arguments: {amount: lots}}}"
    grader_yaml = "{type: tool_call, argument_graders: {amount: {type: numeric}}}"
    with pytest.raises(
        SuiteError, match=r"argument_graders\.amount on refund: the numeric grader needs a numeric"
    ):
        load_suite(write_suite(tmp_path, grader_yaml, samples))


def test_an_argument_grader_needing_a_target_is_a_load_error_in_schema_mode(tmp_path: Path) -> None:
    grader_yaml = "{type: tool_call, arguments_match: schema, argument_graders: {amount: {type: numeric}}}"
    with pytest.raises(SuiteError, match=r"graders\[0\]\.argument_graders\.amount: needs its own value"):
        load_suite(write_suite(tmp_path, grader_yaml, "  - {id: a, target: {name: refund}}"))
