"""The numeric grader: find the number an answer commits to and compare it with the target.

Extraction rules (docs/suites.md repeats them):
1. a number directly after "not" is never the answer ("the answer is not 18 but 19" -> 19);
2. the first number after the last explicit answer phrase ("answer is", "answer:", "final answer",
   "####", "\\boxed{");
3. else the last number in the text (so a self-correction "18, no wait, 19" counts as 19).
The chosen number is ambiguous, and the grade fails, when a different number is joined to it by
"or", "to", "and" or a dash ("19 or 20", "between 19 and 20", "19-20").
Numbers may carry commas ("1,234"), a sign, decimals, `$`, a fraction ("3/4") or an exponent.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from monitor.evals.graders.base import Grade, Options, SyncGrader

if TYPE_CHECKING:
    from monitor.evals.spec import SampleSpec

_NUMBER = re.compile(
    r"""
    (?<![\w.,/])
    (?P<sign1>[-−])?\$?(?P<sign2>[-−])?
    (?:
        (?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:(?P<frac>\.\d+)|/(?P<den>\d+)(?![\d/]))?
        | (?P<lead>\.\d+)
    )
    (?P<exp>[eE][-+]?\d+)?
    """,
    re.VERBOSE,
)
_ANSWER_PHRASE = re.compile(
    r"(?:\banswer\b\s*(?:is|was|would\s+be|will\s+be|should\s+be|=|:)|\bfinal\s+answer\b\s*:?|####|\\boxed\{)",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\bnot\s*$", re.IGNORECASE)
_HEDGE = re.compile(
    r"^(?:[a-z%]+\s*)?(?:or|to|and|-|–|~)(?:\s+(?:maybe|possibly|perhaps|even))?$",
    re.IGNORECASE,
)
_EPSILON = 1e-9


class Number:
    """A number found in an answer: its value and where it sits in the text."""

    __slots__ = ("end", "start", "value")

    def __init__(self, value: float, start: int, end: int) -> None:
        self.value = value
        self.start = start
        self.end = end


def find_numbers(text: str) -> list[Number]:
    """Every number in `text`, in order."""
    found: list[Number] = []
    for match in _NUMBER.finditer(text):
        whole, frac, den = match.group("int"), match.group("frac"), match.group("den")
        exp = match.group("exp") or ""
        if whole is None:
            value = float(match.group("lead") + exp)
        elif den is not None:
            if int(den) == 0:
                continue
            value = int(whole.replace(",", "")) / int(den)
        else:
            value = float(whole.replace(",", "") + (frac or "") + exp)
        if match.group("sign1") or match.group("sign2"):
            value = -value
        found.append(Number(value, match.start(), match.end()))
    return found


def parse_number(text: str) -> float | None:
    """`text` as one number ("1,234", "$-5", "3/4", "12%"), or None when it is not exactly one number."""
    numbers = find_numbers(text)
    if len(numbers) != 1:
        return None
    rest = text[: numbers[0].start] + text[numbers[0].end :]
    return numbers[0].value if not rest.strip().strip("%").strip() else None


def extract_answer(text: str) -> tuple[float | None, str]:
    """The number `text` commits to, or None with the reason (no number, or an ambiguous one)."""
    numbers = [n for n in find_numbers(text) if not _NEGATED.search(text, 0, n.start)]
    if not numbers:
        return None, "no number in the answer"
    index = len(numbers) - 1
    how = "the last number"
    phrases = list(_ANSWER_PHRASE.finditer(text))
    for phrase in reversed(phrases):
        after = [i for i, n in enumerate(numbers) if n.start >= phrase.end()]
        if after:
            index, how = after[0], f"the number after {phrase.group(0).strip()!r}"
            break
    chosen = numbers[index]
    for other in (index - 1, index + 1):
        if 0 <= other < len(numbers) and numbers[other].value != chosen.value:
            first, second = sorted((numbers[other], chosen), key=lambda n: n.start)
            between = text[first.end : second.start].strip()
            if _HEDGE.match(between):
                return None, f"ambiguous answer: {text[first.start : second.end].strip()!r}"
    return chosen.value, how


def _format(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


class NumericGrader(SyncGrader):
    """The answer's number is within `tolerance` of the target (absolute, or relative when set)."""

    type = "numeric"
    needs_target = True

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        self.tolerance = opts.number("tolerance", 0.0, minimum=0.0)
        self.relative = opts.boolean("relative", False)
        super().__init__(name, weight, {"tolerance": self.tolerance, "relative": self.relative})

    @staticmethod
    def targets(target: Any) -> list[float] | None:
        """The acceptable numbers (a list target means any of them), or None when one is not a number."""
        items = target if isinstance(target, list) else [target]
        values: list[float] = []
        for item in items:
            if isinstance(item, bool):
                return None
            if isinstance(item, int | float):
                values.append(float(item))
            elif isinstance(item, str) and (parsed := parse_number(item)) is not None:
                values.append(parsed)
            else:
                return None
        return values or None

    def check_sample(self, sample: SampleSpec) -> str | None:
        problem = super().check_sample(sample)
        if problem is None and self.targets(sample.target) is None:
            problem = f"the numeric grader needs a numeric target, got {sample.target!r}"
        return problem

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        expected = self.targets(sample.target) or []
        value, how = extract_answer(output)
        if value is None:
            return Grade(self.name, 0.0, False, how)
        for target in expected:
            allowed = self.tolerance * abs(target) if self.relative else self.tolerance
            if (
                math.isclose(value, target, rel_tol=_EPSILON, abs_tol=_EPSILON)
                or abs(value - target) <= allowed
            ):
                return Grade(self.name, 1.0, True, f"{_format(value)} ({how}) matches {_format(target)}")
        shown = " | ".join(_format(t) for t in expected)
        return Grade(self.name, 0.0, False, f"{_format(value)} ({how}), expected {shown}")
