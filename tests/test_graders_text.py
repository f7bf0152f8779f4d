"""exact, contains, not_contains and regex graders, including answers built to fool them."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.graders import Grade, Grader, GraderError, SyncGrader, build_graders
from monitor.evals.spec import SampleSpec


def sample(target: Any = None, choices: list[str] | None = None) -> SampleSpec:
    return SampleSpec("s1", [{"role": "user", "content": "q"}], target, choices, None, {}, "t.jsonl:1")


def grader(spec: dict[str, Any]) -> SyncGrader:
    (built,) = build_graders([spec], source="suite.yaml")
    assert isinstance(built, SyncGrader)
    return built


def grade(spec: dict[str, Any], output: str, target: Any = None) -> Grade:
    return grader(spec).grade(output, sample(target))


def test_exact_defaults_to_the_target_and_strips_whitespace() -> None:
    assert grade({"type": "exact"}, "  Paris\n", "Paris").passed


def test_exact_is_case_sensitive_by_default() -> None:
    result = grade({"type": "exact"}, "paris", "Paris")
    assert not result.passed
    assert "expected 'Paris'" in result.detail


def test_exact_case_insensitive_option() -> None:
    assert grade({"type": "exact", "case_sensitive": False}, "PARIS", "Paris").passed


def test_exact_without_strip_keeps_whitespace_significant() -> None:
    assert not grade({"type": "exact", "strip": False}, "Paris ", "Paris").passed


def test_exact_list_target_accepts_any_item() -> None:
    assert grade({"type": "exact"}, "NYC", ["New York", "NYC"]).passed
    assert not grade({"type": "exact"}, "Boston", ["New York", "NYC"]).passed


def test_exact_does_not_accept_the_answer_inside_a_longer_reply() -> None:
    assert not grade({"type": "exact"}, "The answer is Paris", "Paris").passed


def test_exact_numeric_target_compares_as_text() -> None:
    assert grade({"type": "exact"}, "19", 19).passed


def test_exact_configured_value_overrides_the_target() -> None:
    assert grade({"type": "exact", "value": "yes"}, "yes", "no").passed


def test_contains_is_case_insensitive_by_default() -> None:
    assert grade({"type": "contains", "values": ["refund"]}, "We will REFUND you", None).passed


def test_contains_case_sensitive_option() -> None:
    assert not grade({"type": "contains", "values": ["refund"], "case_sensitive": True}, "REFUND").passed


def test_contains_requires_all_values_by_default() -> None:
    result = grade({"type": "contains", "values": ["refund", "14 days"]}, "We refund you.")
    assert not result.passed
    assert "'14 days'" in result.detail


def test_contains_any_with_all_false() -> None:
    assert grade({"type": "contains", "values": ["refund", "replace"], "all": False}, "we replace it").passed


def test_contains_list_target_means_any_of_the_alternatives() -> None:
    assert grade({"type": "contains"}, "It is in New York City", ["New York", "NYC"]).passed


def test_contains_list_target_with_all_true_needs_every_item() -> None:
    assert not grade({"type": "contains", "all": True}, "It is in New York", ["New York", "NYC"]).passed


def test_contains_missing_value_fails() -> None:
    assert not grade({"type": "contains"}, "It is in Boston", "New York").passed


def test_not_contains_fails_on_a_forbidden_phrase_in_any_case() -> None:
    result = grade({"type": "not_contains", "values": ["as an AI"]}, "As An AI, I cannot")
    assert not result.passed
    assert "as an ai" in result.detail


def test_not_contains_passes_without_forbidden_phrases() -> None:
    assert grade({"type": "not_contains", "values": ["guarantee", "lawsuit"]}, "We can help.").passed


def test_not_contains_case_sensitive_option_ignores_other_case() -> None:
    assert grade({"type": "not_contains", "values": ["SECRET"], "case_sensitive": True}, "a secret").passed


def test_not_contains_requires_values() -> None:
    with pytest.raises(SuiteError, match=r"graders\[0\]\.values: is required"):
        grader({"type": "not_contains"})


def test_regex_searches_anywhere_in_the_answer() -> None:
    assert grade({"type": "regex", "pattern": r"ticket #\d{5}"}, "Your ticket #12345 is open").passed


def test_regex_is_case_sensitive_without_the_i_flag() -> None:
    assert not grade({"type": "regex", "pattern": "^hello"}, "Hello there").passed
    assert grade({"type": "regex", "pattern": "^hello", "flags": "i"}, "Hello there").passed


def test_regex_multiline_flag_anchors_at_each_line() -> None:
    spec = {"type": "regex", "pattern": r"^Regards,$", "flags": "m"}
    assert grade(spec, "Thanks.\nRegards,\nAnn").passed
    assert not grade({"type": "regex", "pattern": r"^Regards,$"}, "Thanks.\nRegards,\nAnn").passed


def test_regex_dotall_flag_lets_dot_cross_lines() -> None:
    assert grade({"type": "regex", "pattern": "start.*end", "flags": "s"}, "start\nmiddle\nend").passed
    assert not grade({"type": "regex", "pattern": "start.*end"}, "start\nmiddle\nend").passed


def test_regex_must_match_false_passes_when_absent() -> None:
    spec = {"type": "regex", "pattern": r"\b\d{16}\b", "must_match": False}
    assert grade(spec, "We never ask for your card number.").passed
    assert not grade(spec, "Send 4111111111111111 now").passed


def test_regex_invalid_pattern_is_a_suite_error_at_load() -> None:
    with pytest.raises(SuiteError, match=r"suite\.yaml: graders\[0\]\.pattern: invalid regular expression"):
        grader({"type": "regex", "pattern": "(unclosed"})


def test_regex_unknown_flag_is_rejected() -> None:
    with pytest.raises(SuiteError, match="unknown flag 'g'"):
        grader({"type": "regex", "pattern": "x", "flags": "ig"})


def test_grader_unknown_option_suggests_the_close_one() -> None:
    with pytest.raises(
        SuiteError, match=r"graders\[0\]\.case_sensitiv: unknown option; did you mean 'case_sensitive'"
    ):
        grader({"type": "contains", "values": ["x"], "case_sensitiv": True})


def test_grader_option_of_the_wrong_type_names_what_is_expected() -> None:
    with pytest.raises(
        SuiteError, match=r"graders\[0\]\.case_sensitive: expected true or false, got str 'no'"
    ):
        grader({"type": "exact", "case_sensitive": "no"})


def test_unknown_grader_type_suggests_the_close_one() -> None:
    with pytest.raises(SuiteError, match="unknown grader type 'regexp'; did you mean 'regex'"):
        build_graders([{"type": "regexp", "pattern": "x"}], source="suite.yaml")


def test_graders_of_the_same_type_get_distinct_names() -> None:
    built: list[Grader] = build_graders(
        [{"type": "contains", "values": ["a"]}, {"type": "contains", "values": ["b"]}], source="s.yaml"
    )
    assert [g.name for g in built] == ["contains", "contains#2"]


def test_a_catastrophically_backtracking_pattern_is_a_grader_error_not_a_hang() -> None:
    with pytest.raises(GraderError, match="catastrophic backtracking"):
        grade({"type": "regex", "pattern": r"^(a|aa)+$"}, "a" * 60 + "b")
