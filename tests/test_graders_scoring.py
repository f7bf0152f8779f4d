"""Combining graders: weights, the pass threshold, python graders, and errors apart from failures."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.graders import GraderError, SampleGrade, build_graders, grade_sample
from monitor.evals.spec import Answer, SampleSpec


def sample(target: Any = "Paris") -> SampleSpec:
    return SampleSpec(
        "s1", [{"role": "user", "content": "Capital of France?"}], target, None, None, {}, "t:1"
    )


def run(
    specs: list[dict[str, Any]], output: str, threshold: float = 1.0, source: str = "suite.yaml"
) -> SampleGrade:
    graders = build_graders(specs, source=source)
    return asyncio.run(grade_sample(graders, Answer(output), sample(), pass_threshold=threshold))


def test_sample_score_is_the_weighted_mean_of_the_grades() -> None:
    specs = [{"type": "contains", "weight": 3}, {"type": "not_contains", "values": ["paris"], "weight": 1}]
    result = run(specs, "Paris", threshold=0.7)
    assert [g.passed for g in result.grades] == [True, False]
    assert result.score == pytest.approx(0.75)
    assert result.passed


def test_below_the_threshold_the_sample_fails() -> None:
    specs = [{"type": "contains", "weight": 1}, {"type": "not_contains", "values": ["paris"], "weight": 1}]
    result = run(specs, "Paris", threshold=0.75)
    assert result.score == pytest.approx(0.5)
    assert not result.passed


def test_default_threshold_needs_every_grader() -> None:
    assert run([{"type": "contains"}, {"type": "regex", "pattern": "^P"}], "Paris").passed
    assert not run([{"type": "contains"}, {"type": "regex", "pattern": "^X"}], "Paris").passed


def test_grades_without_a_judge_cost_nothing() -> None:
    result = run([{"type": "exact"}], "Paris")
    assert (result.judge_cost_usd, result.judge_input_tokens, result.judge_output_tokens) == (0.0, 0, 0)


def test_weight_must_be_positive() -> None:
    with pytest.raises(SuiteError, match=r"graders\[0\]\.weight: must be greater than 0"):
        build_graders([{"type": "exact", "weight": 0}], source="suite.yaml")


def test_graders_must_be_a_non_empty_list() -> None:
    with pytest.raises(SuiteError, match="graders: expected a non-empty list"):
        build_graders([], source="suite.yaml")


@pytest.fixture
def checks_module(tmp_path: Path) -> Iterator[Path]:
    """A suite folder holding checks.py, as a user would write it next to their suite."""
    name = f"checks_{abs(hash(str(tmp_path))) % 10**8}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            from monitor.evals.graders import Grade

            def mentions_target(output, sample):
                return sample.target.lower() in output.lower()

            def length_score(output, sample):
                return min(len(output) / 10, 1.0)

            def full_grade(output, sample):
                return Grade("ignored", 0.25, False, "custom detail")

            def crashes(output, sample):
                raise KeyError("boom")

            def wrong_type(output, sample):
                return "yes"

            import threading
            RELEASE = threading.Event()

            def hangs(output, sample):
                RELEASE.wait(60)
                return True
            """
        )
    )
    yield tmp_path / f"{name}.py"
    sys.modules.pop(name, None)


def python_spec(module: Path, function: str, **extra: Any) -> dict[str, Any]:
    return {"type": "python", "function": f"{module.stem}:{function}", **extra}


def test_python_grader_bool_result(checks_module: Path) -> None:
    source = str(checks_module.parent / "suite.yaml")
    assert run([python_spec(checks_module, "mentions_target")], "It is PARIS.", source=source).passed
    assert not run([python_spec(checks_module, "mentions_target")], "Rome", source=source).passed


def test_python_grader_float_result_is_the_score(checks_module: Path) -> None:
    source = str(checks_module.parent / "suite.yaml")
    result = run([python_spec(checks_module, "length_score")], "abcd", threshold=0.4, source=source)
    assert result.score == pytest.approx(0.4)
    assert result.passed
    assert not result.grades[0].passed  # below the grader's own pass_score of 0.5


def test_python_grader_may_return_a_full_grade(checks_module: Path) -> None:
    source = str(checks_module.parent / "suite.yaml")
    result = run([python_spec(checks_module, "full_grade", name="custom")], "x", source=source)
    assert result.grades[0].grader == "custom"
    assert (result.score, result.grades[0].detail) == (0.25, "custom detail")


def test_python_grader_exception_is_an_error_not_a_failure(checks_module: Path) -> None:
    source = str(checks_module.parent / "suite.yaml")
    with pytest.raises(GraderError, match="raised KeyError"):
        run([python_spec(checks_module, "crashes")], "x", source=source)


def test_python_grader_wrong_return_type_is_an_error(checks_module: Path) -> None:
    source = str(checks_module.parent / "suite.yaml")
    with pytest.raises(GraderError, match="returned 'yes'"):
        run([python_spec(checks_module, "wrong_type")], "x", source=source)


def test_python_grader_import_error_is_a_suite_error_at_load(tmp_path: Path) -> None:
    with pytest.raises(
        SuiteError, match=r"graders\[0\]\.function: cannot import module 'no_such_checks_mod'"
    ):
        build_graders(
            [{"type": "python", "function": "no_such_checks_mod:f"}], source=str(tmp_path / "s.yaml")
        )


def test_python_grader_missing_function_is_a_suite_error_at_load(checks_module: Path) -> None:
    with pytest.raises(SuiteError, match="has no attribute 'nope'"):
        build_graders([python_spec(checks_module, "nope")], source=str(checks_module.parent / "s.yaml"))


def test_python_grader_reference_needs_module_and_function() -> None:
    with pytest.raises(SuiteError, match=r"expected 'package\.module:function'"):
        build_graders([{"type": "python", "function": "just_a_module"}], source="s.yaml")


def test_llm_judge_without_any_judge_is_an_error_naming_the_fix() -> None:
    graders = build_graders([{"type": "llm_judge", "rubric": "Is it polite?"}], source="s.yaml")
    with pytest.raises(GraderError, match=r"needs a judge model: set `judge: \{model: provider:model\}`"):
        asyncio.run(grade_sample(graders, Answer("hi"), sample(), pass_threshold=1.0))


def test_llm_judge_rubric_is_required() -> None:
    with pytest.raises(SuiteError, match=r"graders\[0\]\.rubric: is required"):
        build_graders([{"type": "llm_judge"}], source="s.yaml")


def test_a_python_grader_that_does_not_return_in_time_is_an_error_and_the_loop_goes_on(
    checks_module: Path,
) -> None:
    graders = build_graders(
        [python_spec(checks_module, "hangs")], source=str(checks_module.parent / "s.yaml")
    )

    async def go() -> str:
        other = asyncio.create_task(asyncio.sleep(0, result="the loop was free"))
        with pytest.raises(GraderError, match=r"took over 0\.2 s"):
            await grade_sample(graders, Answer("x"), sample(), pass_threshold=1.0, python_timeout=0.2)
        return await other

    try:
        assert asyncio.run(go()) == "the loop was free"
    finally:
        sys.modules[checks_module.stem].RELEASE.set()
