"""The match and includes graders: OpenAI Evals' Match / Includes / FuzzyMatch and Inspect's match / includes.

`match` compares the answer with each acceptable answer (the grader's `value`, else the sample's
target; a list means any of them), after stripping whitespace from both, at a `location`:
- `begin` / `end` / `any` / `exact`: starts with, ends with, contains, equals (Inspect's
  `match(location=...)`; OpenAI Evals' Match is `begin` with `ignore_case: false, ignore_punctuation: false`);
- `ignore_case` (default true) compares casefolded text; `ignore_punctuation` (default true) strips
  punctuation from both ends of answer and target, as Inspect does;
- `numeric: true` with a target that is a number compares numbers instead: `$ £ € , * _` and a `.` not
  followed by a digit are removed, the answer is split on whitespace, the first (`begin`), last
  (`end`), any (`any`) or whole (`exact`) number is taken, and both are compared at 5 significant
  digits (Inspect's rule: "1,000", "1000" and "1000.0" are the same number). A target that is not a
  number falls back to the text comparison;
- `fuzzy: true` is OpenAI Evals' FuzzyMatch: both sides lower-cased, ASCII punctuation and the
  articles a/an/the removed, whitespace collapsed; it passes when either contains the other (both
  empty counts as equal). It takes no `location`, `ignore_case`, `ignore_punctuation` or `numeric`.
`includes` passes when an acceptable answer occurs anywhere in the answer (`ignore_case`, default true).
"""

from __future__ import annotations

import math
import re
import string
from typing import TYPE_CHECKING, Any

from monitor.core.errors import suggest
from monitor.evals.graders.base import Grade, Options, SyncGrader, target_values

if TYPE_CHECKING:
    from monitor.evals.spec import SampleSpec

LOCATIONS = ("begin", "end", "any", "exact")
_VERBS = {"begin": "begin with", "end": "end with", "any": "contain", "exact": "equal"}
_MATCHED = {"begin": "begins with", "end": "ends with", "any": "contains", "exact": "equals"}
_WHERE = {
    "begin": "the first number",
    "end": "the last number",
    "any": "the numbers",
    "exact": "the whole answer",
}
_FUZZY_EXCLUSIVE = ("location", "ignore_case", "ignore_punctuation", "numeric")
_DETAIL_CHARS = 80
_NUMERIC_PUNCTUATION = re.compile(r"[$£€,*_]")
_DOT_NOT_DECIMAL = re.compile(r"\.(?=\s|$|\D)")
# Punctuation glued to a number token ("42!", "(42)") that does not change the number; % does.
_TOKEN_PUNCTUATION = "!?:;()[]{}'\"`~<=>@#^&|"
_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NUMBER_PRECISION = 5


def _quoted(text: str) -> str:
    """`text` shortened and escaped for a grade's detail."""
    return repr(text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…")


def _alternatives(values: list[str]) -> str:
    return " | ".join(_quoted(v) for v in values)


def _read_value(opts: Options) -> tuple[Any, list[str] | None]:
    """The grader's own `value` (a string, a number or a list of them), else None for the target."""
    value = opts.get("value")
    if isinstance(value, dict):
        raise opts.error("value", "expected a string, a number or a list of them, got a mapping")
    if isinstance(value, list) and not value:
        raise opts.error("value", "expected a string, a number or a non-empty list of them, got []")
    values = target_values(value) if value is not None else None
    if values is not None and not all(v.strip() for v in values):
        raise opts.error("value", "an empty acceptable answer would match every answer")
    return value, values


def _empty_target_problem(kind: str, sample: SampleSpec) -> str | None:
    if any(not v.strip() for v in target_values(sample.target)):
        target = sample.target
        return f"the {kind} grader needs non-empty targets (an empty one matches anything), got {target!r}"
    return None


def parse_number(text: str) -> float | None:
    """`text` as a finite number in plain decimal or exponent syntax (a Unicode minus allowed), else None."""
    try:
        value = float(text.replace("−", "-"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def normalize_number(value: float) -> str:
    """A number at Inspect's precision (5 significant digits), so that 1000 and 1000.0 compare equal."""
    return format(value, f".{_NUMBER_PRECISION}g")


def _number_token(word: str) -> float | None:
    value = parse_number(word)
    return value if value is not None else parse_number(word.strip(_TOKEN_PUNCTUATION))


def strip_numeric_punctuation(text: str) -> str:
    """Currency signs, thousands commas, markdown `*`/`_` and non-decimal dots removed (Inspect's rule)."""
    return _DOT_NOT_DECIMAL.sub("", _NUMERIC_PUNCTUATION.sub("", text))


def fuzzy_normalize(text: str) -> str:
    """OpenAI Evals' normalisation: lower case, no ASCII punctuation, no articles, single spaces."""
    lowered = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def fuzzy_match(answer: str, ideal: str) -> bool:
    """Evals' FuzzyMatch: the normalised texts contain one another (two empty texts are equal)."""
    a, b = fuzzy_normalize(answer), fuzzy_normalize(ideal)
    if not a or not b:
        return a == b
    return a in b or b in a


class MatchGrader(SyncGrader):
    """The answer matches an acceptable answer at a location (text or number), or fuzzily (Evals)."""

    type = "match"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        value, self.values = _read_value(opts)
        self.needs_target = self.values is None
        self.fuzzy = opts.boolean("fuzzy", False)
        spec: dict[str, Any] = {"value": value, "fuzzy": self.fuzzy}
        if self.fuzzy:
            for key in _FUZZY_EXCLUSIVE:
                if opts.has(key):
                    raise opts.error(
                        key, "does not apply with fuzzy: true (fuzzy matching has its own normalisation)"
                    )
            self.location, self.ignore_case, self.ignore_punctuation, self.numeric = "any", True, True, False
        else:
            location = opts.string("location", "end")
            if location not in LOCATIONS:
                raise opts.error(
                    "location", f"unknown location {location!r}" + suggest(str(location), list(LOCATIONS))
                )
            self.location = location
            self.ignore_case = opts.boolean("ignore_case", True)
            self.ignore_punctuation = opts.boolean("ignore_punctuation", True)
            self.numeric = opts.boolean("numeric", False)
            spec.update(
                location=location,
                ignore_case=self.ignore_case,
                ignore_punctuation=self.ignore_punctuation,
                numeric=self.numeric,
            )
        super().__init__(name, weight, spec)

    def check_sample(self, sample: SampleSpec) -> str | None:
        problem = super().check_sample(sample)
        if problem is None and self.values is None:
            problem = _empty_target_problem(self.type, sample)
        return problem

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        expected = self.values if self.values is not None else target_values(sample.target)
        if self.fuzzy:
            return self._fuzzy(output, expected)
        misses: list[str] = []
        for ideal in expected:
            if self.numeric and (target := self._numeric_target(ideal)) is not None:
                found = self._numbers(output)
                if target in found:
                    return self._verdict(True, f"matches {target} ({_WHERE[self.location]})")
                misses.append(target)
            elif self._text_match(output, ideal):
                return self._verdict(
                    True, f"{self._shown_answer(output)} {_MATCHED[self.location]} {_quoted(ideal)}"
                )
        return self._verdict(False, self._failure(output, expected, misses))

    def _verdict(self, ok: bool, detail: str) -> Grade:
        return Grade(self.name, 1.0 if ok else 0.0, ok, detail)

    @staticmethod
    def _shown_answer(output: str) -> str:
        return "the answer" if len(output.strip()) > _DETAIL_CHARS else _quoted(output.strip())

    def _failure(self, output: str, expected: list[str], misses: list[str]) -> str:
        if not output.strip():
            return f"empty answer; expected it to {_VERBS[self.location]} {_alternatives(expected)}"
        if misses:
            found = self._numbers(output)
            got = ", ".join(found) if found else "no number"
            shown = _quoted(output.strip())
            return f"{_WHERE[self.location]}: {got}; expected {' | '.join(misses)} (answer {shown})"
        return f"does not {_VERBS[self.location]} {_alternatives(expected)}: got {_quoted(output.strip())}"

    def _fuzzy(self, output: str, expected: list[str]) -> Grade:
        answer = fuzzy_normalize(output)
        for ideal in expected:
            if fuzzy_match(output, ideal):
                norm = fuzzy_normalize(ideal)
                return self._verdict(True, f"normalised {_quoted(answer)} and {_quoted(norm)} overlap")
        shown = _alternatives([fuzzy_normalize(v) for v in expected])
        return self._verdict(False, f"normalised {_quoted(answer)} neither contains nor is inside {shown}")

    def _fold(self, text: str) -> str:
        text = text.strip()
        return text.casefold() if self.ignore_case else text

    def _numeric_target(self, ideal: str) -> str | None:
        value = parse_number(strip_numeric_punctuation(self._fold(ideal)))
        return None if value is None else normalize_number(value)

    def _numbers(self, output: str) -> list[str]:
        """The answer's number(s) at the location, normalised ([] when there is none)."""
        text = strip_numeric_punctuation(self._fold(output))
        if self.location == "exact":
            value = parse_number(text)
            return [] if value is None else [normalize_number(value)]
        numbers = [normalize_number(v) for w in text.split() if (v := _number_token(w)) is not None]
        if self.location == "begin":
            return numbers[:1]
        if self.location == "end":
            return numbers[-1:]
        return numbers

    def _text_match(self, output: str, ideal: str) -> bool:
        answer, target = self._fold(output), self._fold(ideal)
        if self.numeric:
            target = strip_numeric_punctuation(target)
        if self.ignore_punctuation:
            edges = string.whitespace + string.punctuation
            answer, target = answer.strip(edges), target.strip(edges)
        if self.location == "begin":
            return answer.startswith(target)
        if self.location == "end":
            return answer.endswith(target)
        if self.location == "exact":
            return answer == target
        return target in answer


class IncludesGrader(SyncGrader):
    """An acceptable answer occurs anywhere in the answer (Inspect's includes, Evals' Includes)."""

    type = "includes"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        value, self.values = _read_value(opts)
        self.needs_target = self.values is None
        self.ignore_case = opts.boolean("ignore_case", True)
        super().__init__(name, weight, {"value": value, "ignore_case": self.ignore_case})

    def check_sample(self, sample: SampleSpec) -> str | None:
        problem = super().check_sample(sample)
        if problem is None and self.values is None:
            problem = _empty_target_problem(self.type, sample)
        return problem

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        expected = self.values if self.values is not None else target_values(sample.target)
        text = output.casefold() if self.ignore_case else output
        for ideal in expected:
            if (ideal.casefold() if self.ignore_case else ideal) in text:
                return Grade(self.name, 1.0, True, f"includes {_quoted(ideal)}")
        if not output.strip():
            return Grade(
                self.name, 0.0, False, f"empty answer; expected it to include {_alternatives(expected)}"
            )
        detail = f"includes none of {_alternatives(expected)}: got {_quoted(output.strip())}"
        return Grade(self.name, 0.0, False, detail)
