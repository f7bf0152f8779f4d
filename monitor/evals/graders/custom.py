"""Graders that call out: llm_judge (a judge model scores against a rubric) and python (your own function)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.evals.graders.base import Grade, Grader, GraderError, Options, SyncGrader

if TYPE_CHECKING:
    from monitor.evals.judge import Judge, JudgeScore
    from monitor.evals.spec import Answer, SampleSpec


def judged_text(answer: Answer) -> str:
    """The answer as the judge reads it: its text, then its tool calls (`Tool calls: f({...})`) if any."""
    if not answer.tool_calls:
        return answer.text
    calls = "Tool calls: " + ", ".join(f"{call.name}({call.arguments})" for call in answer.tool_calls)
    return f"{answer.text.rstrip()}\n\n{calls}" if answer.text.strip() else calls


class LLMJudgeGrader(Grader):
    """A judge model reads the rubric, question, answer and reference, and gives a score in [0, 1].

    `model` ("provider:model") is the grader's own judge, else the suite's `judge.model`, else None
    (the caller's default judge, from monitor.toml's [judge]).
    """

    type = "llm_judge"

    def __init__(self, name: str, weight: float, opts: Options, *, default_model: str | None) -> None:
        rubric = opts.string("rubric", required=True)
        assert rubric is not None
        if not rubric.strip():
            raise opts.error("rubric", "must not be empty")
        self.rubric = rubric
        model = opts.string("model")
        if model is not None and (":" not in model or model.startswith(":") or model.endswith(":")):
            raise opts.error("model", f"expected 'provider:model', got {model!r}")
        self.model = model or default_model
        self.pass_score = opts.number("pass_score", 0.5, minimum=0.0)
        super().__init__(name, weight, {"rubric": rubric, "model": self.model, "pass_score": self.pass_score})

    async def grade(self, answer: Answer, sample: SampleSpec, judge: Judge) -> tuple[Grade, JudgeScore]:
        """The judge's verdict on the answer's text and tool calls (docs/suites.md "llm_judge")."""
        verdict = await judge.score(self.rubric, sample, judged_text(answer))
        passed = verdict.score >= self.pass_score
        note = " (cached)" if verdict.cached else ""
        detail = f"judge {judge.model_key}{note}: {verdict.score:g}. {verdict.reasoning[:300]}".strip()
        return Grade(self.name, verdict.score, passed, detail), verdict


def import_function(reference: str, search_dir: Path | None) -> Callable[..., Any]:
    """Import `package.module:function`, looking in `search_dir` (the suite's folder) first."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'package.module:function', got {reference!r}")
    added = search_dir is not None and str(search_dir) not in sys.path
    if added:
        sys.path.insert(0, str(search_dir))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(str(search_dir))
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{reference!r} is not callable")
    return target


T = TypeVar("T")

# A user's Python grader runs in a thread of its own and is waited for at most this long.
PYTHON_GRADER_TIMEOUT_S = 10.0


async def call_bounded(function: Callable[[], T], timeout: float) -> T:
    """Run a blocking call in a daemon thread, waiting at most `timeout` (TimeoutError after).

    The event loop never blocks on it, and a call that never returns cannot hold up the
    process's exit (a daemon thread, not the loop's executor, which `asyncio.run` joins).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def resolve(result: T | None, error: BaseException | None) -> None:
        if future.done():  # timed out: nobody waits for it any more
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = function()
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: the run has ended
            loop.call_soon_threadsafe(resolve, result, error)

    threading.Thread(target=target, name="python-grader", daemon=True).start()
    return await asyncio.wait_for(future, timeout)


class PythonGrader(SyncGrader):
    """`fn(output, sample)` returns a bool, a score in [0, 1], or a Grade; an exception is a grading error.

    `grade_bounded` runs it in its own thread for at most PYTHON_GRADER_TIMEOUT_S, so a slow or
    stuck function is a grading error for that sample, not a frozen run.
    """

    type = "python"

    def __init__(self, name: str, weight: float, opts: Options, *, search_dir: Path | None) -> None:
        reference = opts.string("function", required=True)
        assert reference is not None
        try:
            self.function = import_function(reference, search_dir)
        except ValueError as exc:
            raise opts.error("function", str(exc)) from None
        self.reference = reference
        self.pass_score = opts.number("pass_score", 0.5, minimum=0.0)
        super().__init__(name, weight, {"function": reference, "pass_score": self.pass_score})

    async def grade_bounded(self, output: str, sample: SampleSpec, timeout: float) -> Grade:
        """`grade` in a thread of its own, for at most `timeout` seconds."""
        try:
            return await call_bounded(lambda: self.grade(output, sample), timeout)
        except TimeoutError:
            raise GraderError(
                f"python grader {self.reference} took over {timeout:g} s; its thread is left to finish"
            ) from None

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        try:
            result = self.function(output, sample)
        except Exception as exc:
            raise GraderError(f"python grader {self.reference} raised {type(exc).__name__}: {exc}") from exc
        if isinstance(result, Grade) and 0.0 <= result.score <= 1.0:
            return replace(result, grader=self.name)
        if isinstance(result, bool):
            return Grade(self.name, float(result), result, f"{self.reference} returned {result}")
        if isinstance(result, int | float) and 0.0 <= result <= 1.0:
            score = float(result)
            return Grade(self.name, score, score >= self.pass_score, f"{self.reference} returned {score:g}")
        raise GraderError(
            f"python grader {self.reference} returned {result!r}; expected a bool, a score in [0, 1], a Grade"
        )
