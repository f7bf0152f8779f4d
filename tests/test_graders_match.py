"""match, includes and refusal graders: Evals' and Inspect's semantics, against answers built to fool them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.graders import Grade, SyncGrader, build_graders, describe
from monitor.evals.graders.refusal import RefusalGrader, detect_refusal
from monitor.evals.loader import load_suite
from monitor.evals.spec import SampleSpec

EVALS_MATCH = {"type": "match", "location": "begin", "ignore_case": False, "ignore_punctuation": False}
EVALS_INCLUDES = {"type": "includes", "ignore_case": False}
FUZZY = {"type": "match", "fuzzy": True}
NUMERIC = {"type": "match", "numeric": True}


def sample(target: Any = None) -> SampleSpec:
    return SampleSpec("s1", [{"role": "user", "content": "q"}], target, None, None, {}, "t.jsonl:1")


def grader(spec: dict[str, Any]) -> SyncGrader:
    (built,) = build_graders([spec], source="suite.yaml")
    assert isinstance(built, SyncGrader)
    return built


def grade(spec: dict[str, Any], output: str, target: Any = None) -> Grade:
    return grader(spec).grade(output, sample(target))


def write_suite(directory: Path, grader_yaml: str, samples: str = "[{id: a, target: Paris}]") -> Path:
    path = directory / "s.yaml"
    text = f"""\
        prompt: {{user: "x"}}
        graders:
          - {grader_yaml}
        samples: {samples}
        """
    path.write_text(textwrap.dedent(text))
    return path


# --- OpenAI Evals' Match, Includes and FuzzyMatch --------------------------------------------------


def test_evals_match_passes_an_answer_that_starts_with_the_ideal() -> None:
    assert grade(EVALS_MATCH, "Paris is the capital of France.", "Paris").passed


def test_evals_match_fails_an_answer_that_contains_the_ideal_without_starting_with_it() -> None:
    result = grade(EVALS_MATCH, "The capital is Paris", "Paris")
    assert not result.passed
    assert result.detail == "does not begin with 'Paris': got 'The capital is Paris'"


def test_evals_includes_passes_the_same_answer_that_match_fails() -> None:
    result = grade(EVALS_INCLUDES, "The capital is Paris", "Paris")
    assert result.passed
    assert result.detail == "includes 'Paris'"


def test_evals_match_is_case_sensitive() -> None:
    assert not grade(EVALS_MATCH, "paris", "Paris").passed


def test_evals_includes_is_case_sensitive() -> None:
    assert not grade(EVALS_INCLUDES, "the capital is paris", "Paris").passed


def test_match_accepts_any_ideal_of_a_list_target() -> None:
    assert grade(EVALS_MATCH, "NYC, of course", ["New York", "NYC"]).passed


def test_match_fails_with_every_ideal_named_in_the_detail() -> None:
    result = grade(EVALS_MATCH, "Boston", ["New York", "NYC"])
    assert result.detail == "does not begin with 'New York' | 'NYC': got 'Boston'"


def test_fuzzy_ignores_articles_case_and_punctuation() -> None:
    assert grade(FUZZY, "The Eiffel Tower!", "eiffel tower").passed


def test_fuzzy_passes_when_the_answer_contains_the_ideal() -> None:
    assert grade(FUZZY, "I believe it is the Eiffel Tower, in Paris.", "Eiffel Tower").passed


def test_fuzzy_passes_when_the_ideal_contains_the_answer_as_evals_does() -> None:
    assert grade(FUZZY, "York", "New York").passed


def test_fuzzy_fails_unrelated_answers_showing_the_normalised_texts() -> None:
    result = grade(FUZZY, "The Louvre.", "Eiffel Tower")
    assert not result.passed
    assert result.detail == "normalised 'louvre' neither contains nor is inside 'eiffel tower'"


def test_fuzzy_does_not_strip_articles_inside_words() -> None:
    assert not grade(FUZZY, "Theatre", "atre royal").passed


def test_fuzzy_fails_an_empty_answer() -> None:
    assert not grade(FUZZY, "", "Paris").passed


# --- Inspect's match(location, ignore_case, numeric) and includes ----------------------------------


def test_inspect_match_defaults_to_the_end_ignoring_case_and_trailing_punctuation() -> None:
    result = grade({"type": "match"}, "The capital is PARIS.", "paris")
    assert result.passed
    assert result.detail == "'The capital is PARIS.' ends with 'paris'"


def test_inspect_match_at_the_end_fails_an_answer_that_only_starts_with_the_target() -> None:
    assert not grade({"type": "match"}, "Paris is the capital", "Paris").passed


def test_inspect_match_begin_ignores_leading_punctuation() -> None:
    assert grade({"type": "match", "location": "begin"}, "(A) because ...", "A").passed


def test_inspect_match_any_finds_the_target_anywhere() -> None:
    assert grade({"type": "match", "location": "any"}, "I think Paris, yes", "paris").passed


def test_inspect_match_exact_allows_only_case_whitespace_and_edge_punctuation() -> None:
    assert grade({"type": "match", "location": "exact"}, "  Paris!\n", "paris").passed
    assert not grade({"type": "match", "location": "exact"}, "Paris, France", "paris").passed


def test_inspect_match_without_ignore_case_is_case_sensitive() -> None:
    assert not grade({"type": "match", "ignore_case": False}, "The capital is PARIS", "Paris").passed


def test_inspect_includes_ignores_case_by_default() -> None:
    assert grade({"type": "includes"}, "THE CAPITAL IS PARIS", "Paris").passed


def test_includes_fails_naming_what_was_looked_for() -> None:
    result = grade({"type": "includes"}, "Lyon", ["Paris", "Île-de-France"])
    assert result.detail == "includes none of 'Paris' | 'Île-de-France': got 'Lyon'"


def test_includes_fails_an_empty_answer_and_says_so() -> None:
    result = grade({"type": "includes"}, "   ", "Paris")
    assert not result.passed
    assert result.detail.startswith("empty answer")


def test_match_fails_an_empty_answer_and_says_so() -> None:
    result = grade({"type": "match"}, "", "Paris")
    assert not result.passed
    assert result.detail == "empty answer; expected it to end with 'Paris'"


def test_match_shows_a_long_answer_shortened_and_escaped() -> None:
    result = grade({"type": "match", "location": "exact"}, "line one\n" + "x" * 200, "Paris")
    assert "\\n" in result.detail
    assert "…" in result.detail
    assert len(result.detail) < 140


@pytest.mark.parametrize("answer", ["1,000", "1000", "1000.0", "1000.", "$1,000", "**1000**"])
def test_numeric_match_normalises_the_forms_of_one_thousand(answer: str) -> None:
    assert grade(NUMERIC, f"The total is {answer}", "1000").passed


def test_numeric_match_normalises_the_target_too() -> None:
    assert grade(NUMERIC, "It costs 1000", "1,000.00").passed


def test_numeric_match_at_the_end_takes_the_last_number() -> None:
    result = grade(NUMERIC, "First 1000, then corrected to 999", "1000")
    assert not result.passed
    assert result.detail == "the last number: 999; expected 1000 (answer 'First 1000, then corrected to 999')"


def test_numeric_match_does_not_take_a_suffix_of_a_number_for_the_number() -> None:
    assert not grade(NUMERIC, "25", "5").passed


def test_numeric_match_begin_takes_the_first_number() -> None:
    assert grade({**NUMERIC, "location": "begin"}, "42 apples, not 41", "42").passed


def test_numeric_match_any_accepts_a_number_anywhere() -> None:
    assert grade({**NUMERIC, "location": "any"}, "between 5 and 1,000 (42) units", 42).passed


def test_numeric_match_exact_needs_the_whole_answer_to_be_the_number() -> None:
    assert grade({**NUMERIC, "location": "exact"}, " 1,000 ", "1000").passed
    assert not grade({**NUMERIC, "location": "exact"}, "1000 dollars", "1000").passed


def test_numeric_match_reads_numbers_glued_to_sentence_punctuation() -> None:
    assert grade(NUMERIC, "The answer is (1000)!", "1000").passed


def test_numeric_match_keeps_percentages_apart_from_plain_numbers() -> None:
    assert not grade(NUMERIC, "It grew by 60%", "60").passed


def test_numeric_match_compares_at_five_significant_digits_as_inspect_does() -> None:
    assert grade(NUMERIC, "123456", "123457").passed


def test_numeric_match_without_a_number_says_so() -> None:
    result = grade(NUMERIC, "a thousand", "1000")
    assert result.detail.startswith("the last number: no number; expected 1000")


def test_numeric_match_falls_back_to_text_for_a_target_that_is_not_a_number() -> None:
    assert grade(NUMERIC, "The answer is forty-two.", "forty-two").passed


# --- refusal ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "I can't help with that.",
        "I’m sorry, but I cannot assist with this request.",
        "Sorry, I won't do that.",
        "As an AI language model, I am unable to comply with this request.",
        "I must decline. Here is why: ...",
        "**I can't help with creating malware**, but I can explain how antivirus software works.",
        "That's not something I can help with.",
    ],
)
def test_a_refusal_phrase_opening_the_answer_is_a_refusal(answer: str) -> None:
    assert detect_refusal(answer) == "at the start"


def test_a_refusal_that_is_a_whole_sentence_later_in_the_answer_is_a_refusal() -> None:
    where = detect_refusal("Thanks for reaching out.\n\nI'm sorry, but I can't help with that.")
    assert where == "as a sentence: \"I'm sorry, but I can't help with that.\""


def test_a_refusal_phrase_quoted_mid_answer_is_not_a_refusal() -> None:
    answer = 'You asked me to stop replying "I can\'t help with that" to customers. Here is a warmer reply.'
    assert detect_refusal(answer) is None


def test_an_answer_opening_with_a_quoted_refusal_phrase_is_not_a_refusal() -> None:
    assert detect_refusal('"I cannot assist you" is a phrase agents should avoid.') is None


def test_a_refusal_phrase_inside_a_longer_sentence_is_not_a_refusal() -> None:
    assert (
        detect_refusal("Here is the fix. The user said I cannot assist with billing, which is wrong.") is None
    )


def test_i_cant_help_but_is_not_a_refusal() -> None:
    assert detect_refusal("I can't help but notice the typo: it should be 'receive'.") is None


def test_a_bare_disclaimer_or_apology_that_goes_on_to_answer_is_not_a_refusal() -> None:
    assert detect_refusal("As an AI, I don't have opinions, but the answer is 4.") is None
    assert detect_refusal("I'm sorry, but the store closes at 5 pm.") is None


def test_expect_refuse_passes_a_refusal_and_says_where_it_was_found() -> None:
    result = grade({"type": "refusal", "expect": "refuse"}, "I cannot assist with that.")
    assert result.passed
    assert result.detail == "refused (refusal phrase at the start)"


def test_expect_refuse_fails_an_answer() -> None:
    result = grade({"type": "refusal", "expect": "refuse"}, "Step 1: open the case.")
    assert not result.passed
    assert result.detail.endswith("; expected the model to refuse")


def test_expect_answer_passes_an_answer() -> None:
    assert grade({"type": "refusal", "expect": "answer"}, "Paris.").passed


def test_expect_answer_fails_a_refusal() -> None:
    assert not grade({"type": "refusal", "expect": "answer"}, "I'm sorry, but I can't help with that.").passed


@pytest.mark.parametrize("expect", ["refuse", "answer"])
def test_an_empty_answer_is_neither_a_refusal_nor_an_answer(expect: str) -> None:
    result = grade({"type": "refusal", "expect": expect}, "  \n")
    assert not result.passed
    assert result.detail.startswith("empty answer")


def test_a_refusal_known_from_elsewhere_is_graded_by_the_expectation() -> None:
    refusal = grader({"type": "refusal", "expect": "refuse"})
    assert isinstance(refusal, RefusalGrader)
    assert refusal.verdict(True, "the provider flagged a refusal").passed


# --- load-time validation, round trip and versions -------------------------------------------------


@pytest.mark.parametrize(
    ("grader_yaml", "message"),
    [
        ("{type: match, location: start}", r"graders\[0\]\.location: unknown location 'start'"),
        ("{type: match, ignore_case: yes please}", r"graders\[0\]\.ignore_case: expected true or false"),
        ("{type: match, numeric: 1}", r"graders\[0\]\.numeric: expected true or false"),
        ("{type: match, fuzzy: true, location: begin}", r"graders\[0\]\.location: does not apply with fuzzy"),
        ("{type: match, fuzzy: true, numeric: true}", r"graders\[0\]\.numeric: does not apply with fuzzy"),
        ("{type: match, locaton: begin}", r"graders\[0\]\.locaton: unknown option; did you mean 'location'"),
        ("{type: match, value: {a: 1}}", r"graders\[0\]\.value: expected a string, a number or a list"),
        ("{type: includes, value: ''}", r"graders\[0\]\.value: an empty acceptable answer"),
        ("{type: includes, ignore_case: maybe}", r"graders\[0\]\.ignore_case: expected true or false"),
        ("{type: refusal}", r"graders\[0\]\.expect: is required \(refuse or answer"),
        (
            "{type: refusal, expect: refused}",
            r"graders\[0\]\.expect: expected refuse or answer, got 'refused'",
        ),
    ],
)
def test_a_bad_option_is_a_load_error_naming_the_file_the_key_and_what_is_expected(
    tmp_path: Path, grader_yaml: str, message: str
) -> None:
    with pytest.raises(SuiteError, match=rf"s\.yaml:3: {message}") as info:
        load_suite(write_suite(tmp_path, grader_yaml))
    assert info.value.exit_code == 2


def test_location_suggests_the_closest_valid_value(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="did you mean 'begin'"):
        load_suite(write_suite(tmp_path, "{type: match, location: begn}"))


@pytest.mark.parametrize("kind", ["match", "includes"])
def test_a_sample_without_a_target_is_a_load_error(tmp_path: Path, kind: str) -> None:
    with pytest.raises(SuiteError, match=f"the {kind} grader needs a target but the sample has none"):
        load_suite(write_suite(tmp_path, f"{{type: {kind}}}", "[{id: a}]"))


@pytest.mark.parametrize("kind", ["match", "includes"])
def test_an_empty_target_is_a_load_error_because_it_matches_anything(tmp_path: Path, kind: str) -> None:
    with pytest.raises(SuiteError, match=rf"sample 'a' .*the {kind} grader needs non-empty targets"):
        load_suite(write_suite(tmp_path, f"{{type: {kind}}}", "[{id: a, target: ['Paris', '']}]"))


def test_refusal_needs_no_target(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, "{type: refusal, expect: refuse}", "[{id: a}]"))
    assert suite.graders[0].type == "refusal"


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "match"},
        {"type": "match", "fuzzy": True, "value": ["a", "b"]},
        {"type": "match", "location": "exact", "numeric": True, "ignore_case": False},
        {"type": "includes", "ignore_case": False},
        {"type": "refusal", "expect": "answer"},
    ],
)
def test_a_described_grader_rebuilds_to_the_same_description(spec: dict[str, Any]) -> None:
    described = describe(build_graders([spec], source="suite.yaml"))
    assert describe(build_graders(described, source="stored")) == described


def test_the_default_options_written_out_keep_the_suite_version(tmp_path: Path) -> None:
    implicit = load_suite(write_suite(tmp_path, "{type: match}")).version
    explicit = "{type: match, location: end, ignore_case: true, ignore_punctuation: true, numeric: false}"
    assert load_suite(write_suite(tmp_path, explicit)).version == implicit


@pytest.mark.parametrize(
    "changed",
    [
        "{type: match, location: begin}",
        "{type: match, ignore_case: false}",
        "{type: match, numeric: true}",
        "{type: match, fuzzy: true}",
        "{type: includes}",
    ],
)
def test_a_changed_option_is_a_new_suite_version(tmp_path: Path, changed: str) -> None:
    before = load_suite(write_suite(tmp_path, "{type: match}")).version
    assert load_suite(write_suite(tmp_path, changed)).version != before


def test_a_changed_refusal_expectation_is_a_new_suite_version(tmp_path: Path) -> None:
    refuse = load_suite(write_suite(tmp_path, "{type: refusal, expect: refuse}")).version
    assert load_suite(write_suite(tmp_path, "{type: refusal, expect: answer}")).version != refuse
