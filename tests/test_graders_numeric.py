"""The numeric grader: which number an answer commits to, and the tolerance around the target."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.evals.graders import SyncGrader, build_graders, extract_answer
from monitor.evals.spec import SampleSpec


def passes(output: str, target: Any, **options: Any) -> bool:
    (grader,) = build_graders([{"type": "numeric", **options}], source="suite.yaml")
    assert isinstance(grader, SyncGrader)
    sample = SampleSpec("s1", [{"role": "user", "content": "q"}], target, None, None, {}, "t.jsonl:1")
    return grader.grade(output, sample).passed


@pytest.mark.parametrize(
    "output",
    [
        "19",
        "The answer is 19.",
        "Answer: 19",
        "She has 12 + 7 = 19 apples.",
        "#### 19",
        "**19**",
        "$19",
        "19 apples",
        "I think 18, no wait, 19",
        "The answer is not 18 but 19",
        "It is 19, not 18.",
    ],
)
def test_answers_that_commit_to_19_pass(output: str) -> None:
    assert passes(output, 19)


@pytest.mark.parametrize(
    "output",
    [
        "19 or 20",
        "The answer is 19 or 20.",
        "somewhere between 19 and 20",
        "19-20",
        "18",
        "19.5",
        "I don't know",
        "The answer is 190",
        "The answer is 20. (Step 1 gave 19.)",
    ],
)
def test_answers_that_do_not_commit_to_19_fail(output: str) -> None:
    assert not passes(output, 19)


def test_a_hedge_between_two_numbers_is_reported_as_ambiguous() -> None:
    assert extract_answer("It could be 19 or 20") == (None, "ambiguous answer: '19 or 20'")


def test_the_answer_phrase_wins_over_a_later_number() -> None:
    value, how = extract_answer("The answer is 42. I checked it 3 times.")
    assert value == 42
    assert "answer is" in how


def test_thousands_separators_and_dollars_are_read() -> None:
    assert passes("The total is $1,234.50", 1234.5)


def test_negative_numbers_are_read() -> None:
    assert passes("The temperature fell to -7 degrees", -7)
    assert not passes("The temperature fell to 7 degrees", -7)


def test_fractions_are_read_as_their_value() -> None:
    assert passes("Answer: 3/4 cup", 0.75)


def test_string_targets_in_any_number_format_are_accepted() -> None:
    assert passes("1234", "1,234")
    assert passes("0.75", "3/4")


def test_zero_tolerance_rejects_a_near_miss() -> None:
    assert not passes("19.001", 19)


def test_absolute_tolerance() -> None:
    assert passes("3.1416", 3.14159, tolerance=0.001)
    assert not passes("3.15", 3.14159, tolerance=0.001)


def test_relative_tolerance_scales_with_the_target() -> None:
    assert passes("1010", 1000, tolerance=0.01, relative=True)
    assert not passes("1011", 1000, tolerance=0.01, relative=True)


def test_float_representation_noise_does_not_fail_zero_tolerance() -> None:
    assert passes("0.3", 0.1 + 0.2)


def test_list_target_accepts_any_of_its_numbers() -> None:
    assert passes("The answer is 6", ["5", "6"])


def test_a_number_inside_a_word_is_not_read() -> None:
    assert not passes("Use model gpt4 for this", 4)
