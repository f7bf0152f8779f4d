"""The grader contract: the Grade a grader returns, the base classes, and strict option parsing."""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from monitor.core.errors import MonitorError, SuiteError, suggest

if TYPE_CHECKING:
    from monitor.evals.spec import Answer, SampleSpec


@dataclass(frozen=True)
class Grade:
    """One grader's verdict on one answer: a score in [0, 1], pass/fail, and a short why."""

    grader: str
    score: float
    passed: bool
    detail: str


@dataclass(frozen=True)
class SampleGrade:
    """All graders' verdicts on one answer, combined by weight; judge spending counted apart."""

    score: float
    passed: bool
    grades: list[Grade]
    judge_cost_usd: float | None  # None = a judge call's cost is unknown (never reported as 0)
    judge_input_tokens: int
    judge_output_tokens: int


class GraderError(MonitorError):
    """A grader could not reach a verdict (a custom check crashed, the judge gave no score).

    The runner records it as an error of the sample, never as a failure: it must not lower a score.
    """

    kind = "grader"


class Grader(ABC):
    """A configured grader: its name in results, its weight, and its normalised options."""

    type: ClassVar[str]
    #: graders that fall back to the sample's target when no value is configured set this
    needs_target: bool = False

    def __init__(self, name: str, weight: float, spec: dict[str, Any]) -> None:
        self.name = name
        self.weight = weight
        self.spec = spec

    def check_sample(self, sample: SampleSpec) -> str | None:
        """Why this grader cannot grade `sample` (checked at load time), or None when it can."""
        if self.needs_target and sample.target is None:
            return f"the {self.type} grader needs a target but the sample has none"
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} weight={self.weight}>"


class SyncGrader(Grader):
    """A grader that decides locally, without I/O, from the answer's text alone."""

    @abstractmethod
    def grade(self, output: str, sample: SampleSpec) -> Grade:
        """Grade one answer's text."""


class AnswerGrader(Grader):
    """A grader that decides locally, without I/O, from the whole answer: its text and its tool calls."""

    @abstractmethod
    def grade(self, answer: Answer, sample: SampleSpec) -> Grade:
        """Grade one answer."""


class Options:
    """A grader's YAML mapping, read key by key; every error names the file, `graders[i].key` and the line.

    `where` replaces `graders[i]` in errors for a mapping nested inside a grader's options.
    """

    def __init__(self, raw: Mapping[str, Any], *, index: int, source: str, where: str | None = None) -> None:
        self.raw = raw
        self.index = index
        self.source = source
        self.where = where or f"graders[{index}]"
        self.line: int | None = getattr(raw, "line", None)
        self.used: set[str] = {"type", "weight", "name"}

    def error(self, key: str | None, message: str) -> SuiteError:
        where = self.where + (f".{key}" if key else "")
        key_lines: dict[str, int] = getattr(self.raw, "key_lines", {})
        line = key_lines.get(key, self.line) if key else self.line
        return SuiteError(f"{where}: {message}", path=self.source, line=line)

    def missing(self, key: str, what: str) -> SuiteError:
        """`key` is required; when a misspelt key is present, point at it."""
        typo = difflib.get_close_matches(key, [str(k) for k in self.raw], n=1, cutoff=0.6)
        if typo:
            return self.error(typo[0], f"unknown option; did you mean '{key}'? ({key} is required)")
        return self.error(key, f"is required ({what})")

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.raw.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.raw

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.get(key, default)
        if value is None and required:
            raise self.missing(key, "a string")
        if value is not None and not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_describe(value)}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_describe(value)}")
        return value

    def number(
        self, key: str, default: float, *, minimum: float | None = None, positive: bool = False
    ) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {_describe(value)}")
        if positive and value <= 0:
            raise self.error(key, f"must be greater than 0, got {value}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        return float(value)

    def strings(self, key: str) -> list[str] | None:
        """A string or a list of strings (None when absent)."""
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return list(value)
        raise self.error(key, f"expected a string or a non-empty list of strings, got {_describe(value)}")

    def finish(self, allowed_extra: tuple[str, ...] = ()) -> None:
        """Reject keys no reader asked for, with a did-you-mean suggestion."""
        known = self.used | set(allowed_extra)
        for key in self.raw:
            if key not in known:
                raise self.error(str(key), "unknown option" + suggest(str(key), sorted(known)))


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def target_values(target: Any) -> list[str]:
    """A target as the list of acceptable strings (a list target means any of them)."""
    if target is None:
        return []
    if isinstance(target, list):
        return [_as_text(t) for t in target]
    return [_as_text(target)]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else str(value)
