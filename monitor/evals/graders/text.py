"""String graders: exact match, contains / not-contains, and regular expressions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import regex

from monitor.evals.graders.base import Grade, GraderError, Options, SyncGrader, target_values

if TYPE_CHECKING:
    from monitor.evals.spec import SampleSpec

_DETAIL_CHARS = 80


def _short(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


class ExactGrader(SyncGrader):
    """The answer equals the value (or the target; a list target means any of its items)."""

    type = "exact"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        value = opts.get("value")
        if isinstance(value, dict):
            raise opts.error("value", "expected a string, a number or a list of them, got a mapping")
        self.values = target_values(value) if value is not None else None
        self.case_sensitive = opts.boolean("case_sensitive", True)
        self.strip = opts.boolean("strip", True)
        self.needs_target = self.values is None
        spec = {"value": value, "case_sensitive": self.case_sensitive, "strip": self.strip}
        super().__init__(name, weight, spec)

    def _norm(self, text: str) -> str:
        if self.strip:
            text = text.strip()
        return text if self.case_sensitive else text.casefold()

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        expected = self.values if self.values is not None else target_values(sample.target)
        answer = self._norm(output)
        ok = any(answer == self._norm(v) for v in expected)
        shown = " | ".join(repr(_short(v)) for v in expected)
        detail = "matches" if ok else f"expected {shown}, got {_short(output.strip())!r}"
        return Grade(self.name, 1.0 if ok else 0.0, ok, detail)


class ContainsGrader(SyncGrader):
    """The answer contains the values: all of them, or any (`all: false`).

    With no `values` the target is used, and a list target means any of its items (alternative
    answers, as in OpenAI Evals' `ideal`) unless `all` is set explicitly.
    """

    type = "contains"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        self.values = opts.strings("values")
        self.case_sensitive = opts.boolean("case_sensitive", False)
        explicit_all = opts.get("all")
        if explicit_all is not None and not isinstance(explicit_all, bool):
            raise opts.error("all", "expected true or false")
        self.all_explicit: bool | None = explicit_all
        self.needs_target = self.values is None
        if self.values is not None and not self.case_sensitive:
            self.values = [v.casefold() for v in self.values]
        spec = {"values": self.values, "case_sensitive": self.case_sensitive, "all": explicit_all}
        super().__init__(name, weight, spec)

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        if self.values is not None:
            values, need_all = self.values, self.all_explicit is not False
        else:
            values = target_values(sample.target)
            if not self.case_sensitive:
                values = [v.casefold() for v in values]
            default_all = not isinstance(sample.target, list)
            need_all = default_all if self.all_explicit is None else self.all_explicit
        text = output if self.case_sensitive else output.casefold()
        missing = [v for v in values if v not in text]
        ok = not missing if need_all else len(missing) < len(values)
        if ok:
            detail = "contains " + ("all values" if need_all else "one of the values")
        elif need_all:
            detail = "missing " + ", ".join(repr(_short(v)) for v in missing)
        else:
            detail = "contains none of " + ", ".join(repr(_short(v)) for v in values)
        return Grade(self.name, 1.0 if ok else 0.0, ok, detail)


class NotContainsGrader(SyncGrader):
    """The answer contains none of the values (for forbidden phrases)."""

    type = "not_contains"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        values = opts.strings("values")
        if values is None:
            raise opts.missing("values", "a string or a list of strings")
        self.case_sensitive = opts.boolean("case_sensitive", False)
        self.values = values if self.case_sensitive else [v.casefold() for v in values]
        super().__init__(name, weight, {"values": values, "case_sensitive": self.case_sensitive})

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        text = output if self.case_sensitive else output.casefold()
        found = [v for v in self.values if v in text]
        if found:
            return Grade(self.name, 0.0, False, "contains forbidden " + ", ".join(repr(v) for v in found))
        return Grade(self.name, 1.0, True, "contains none of the forbidden values")


_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}
# A user pattern on model output can backtrack catastrophically; the `regex` engine stops it here.
REGEX_TIMEOUT_S = 1.0


class RegexGrader(SyncGrader):
    """The answer matches the pattern somewhere (a search), or must not (`must_match: false`).

    Patterns use Python's `re` syntax, run by the `regex` engine so that one answer cannot hang the
    run: a search longer than REGEX_TIMEOUT_S is a grader error for that sample.
    """

    type = "regex"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        pattern = opts.string("pattern", required=True)
        assert pattern is not None
        flags_text = opts.string("flags", "") or ""
        flags = 0
        for letter in flags_text:
            if letter not in _FLAGS:
                raise opts.error("flags", f"unknown flag {letter!r}; use letters from 'imsx'")
            flags |= _FLAGS[letter]
        try:
            self.regex = regex.compile(pattern, flags)
        except regex.error as exc:
            raise opts.error("pattern", f"invalid regular expression: {exc}") from None
        self.must_match = opts.boolean("must_match", True)
        spec: dict[str, Any] = {"pattern": pattern, "flags": "".join(sorted(set(flags_text)))}
        spec["must_match"] = self.must_match
        super().__init__(name, weight, spec)

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        try:
            match = self.regex.search(output, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            raise GraderError(
                f"regex grader {self.name}: /{_short(self.regex.pattern)}/ took over {REGEX_TIMEOUT_S:g} s "
                "on this answer (catastrophic backtracking?)"
            ) from None
        ok = (match is not None) == self.must_match
        if match is not None:
            detail = f"matched {_short(match.group(0))!r}"
        else:
            detail = f"no match for /{_short(self.regex.pattern)}/"
        return Grade(self.name, 1.0 if ok else 0.0, ok, detail)
