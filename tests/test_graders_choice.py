"""The choice grader: the one letter an answer commits to; hedges between letters fail."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.graders import SyncGrader, build_graders, extract_letter
from monitor.evals.loader import load_suite
from monitor.evals.spec import SampleSpec

CHOICES = ["London", "Paris", "Rome", "Berlin"]


def passes(output: str, target: Any = "B", choices: list[str] | None = CHOICES, **options: Any) -> bool:
    (grader,) = build_graders([{"type": "choice", **options}], source="suite.yaml")
    assert isinstance(grader, SyncGrader)
    sample = SampleSpec("s1", [{"role": "user", "content": "q"}], target, choices, None, {}, "t.jsonl:1")
    assert grader.check_sample(sample) is None
    return grader.grade(output, sample).passed


@pytest.mark.parametrize(
    "output",
    [
        "B",
        "b",
        "(B)",
        "B)",
        "B.",
        "**B**",
        "Answer: B",
        "The answer is B.",
        "The correct answer is (B) Paris.",
        "B) Paris",
        "Because of the capital's history, B",
        "not A, it's B",
        "It's B, not A.",
        "A good choice here is B",
        "I think it is B",
        "Paris",
    ],
)
def test_answers_committing_to_b_pass(output: str) -> None:
    assert passes(output)


@pytest.mark.parametrize(
    "output",
    [
        "A or B",
        "A and B",
        "The answer is A or B",
        "Answer: B/C",
        "Because the capital is Paris, obviously",
        "E",
        "C",
        "",
        "I can't decide.",
    ],
)
def test_answers_not_committing_to_b_fail(output: str) -> None:
    assert not passes(output)


def test_a_letter_inside_a_word_does_not_count() -> None:
    assert extract_letter("Because Berlin is big", "ABCD") == (None, "no choice letter in the answer")


def test_a_hedge_is_reported_as_ambiguous() -> None:
    letter, why = extract_letter("Either A or B", "ABCD")
    assert letter is None
    assert why.startswith("ambiguous")


def test_target_may_be_the_text_of_a_choice() -> None:
    assert passes("B", target="Paris")
    assert not passes("C", target="Paris")


def test_letters_beyond_the_sample_choices_are_not_valid() -> None:
    assert not passes("E", target="B", choices=["w", "x", "y", "z", "v"][:4])


def test_without_choices_the_grader_letters_option_sets_the_valid_letters() -> None:
    assert passes("The answer is E", target="E", choices=None, letters="ABCDE")


def test_a_target_that_is_no_choice_is_a_suite_error_at_load(tmp_path: Any) -> None:
    suite = tmp_path / "mc.yaml"
    suite.write_text(
        'prompt: {user: "{{ q }}"}\n'
        "graders: [{type: choice}]\n"
        "samples:\n"
        "  - {id: one, vars: {q: x}, target: Madrid, choices: [London, Paris]}\n"
    )
    with pytest.raises(
        SuiteError, match=r"sample 'one' \(.*mc\.yaml:4\): the choice grader needs a letter in AB"
    ):
        load_suite(suite)
