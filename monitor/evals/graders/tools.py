"""The tool_call grader: the model called the expected functions, with the expected arguments.

The expected calls are the grader's `tool` (with its `arguments`), else the sample's target: a call
`{name, arguments?}`, a list of them in order, or `[]` / `{none: true}` for "no tool call". A call
without `arguments` accepts any arguments. The model's arguments are its raw JSON text: text that
is not a JSON object fails the call (blank text is read as `{}`, a call without arguments).
- `arguments_match`: `subset` (default: every expected argument is there and equal, others are fine),
  `exact` (no other arguments), `schema` (the expected arguments are a JSON Schema the model's must
  validate against). Values compare exactly: strings case- and space-sensitive, numbers by value
  (1 == 1.0), booleans never numbers, objects key by key (subset or exact at every depth).
- `argument_graders: {arg: {type: match, ...}}` grades an argument's value (as text: a string as is,
  anything else as JSON) with a text grader instead of comparing it; the expected value of that
  argument is the grader's target. It applies to each expected call whose arguments name `arg`;
  one with its own `value`/`values`/`pattern` also to the other calls, when the model sent `arg`.
- `order: true`: the calls must come in the expected order (others may come between them unless
  `count: exact`); `count`: `at_least` (default: other calls are fine) or `exact` (no other calls
  and no repeats; every unmatched call counts as a miss in the score).
- `none: true`: the model must make no tool call.
Score: the fraction of expected calls matched (with `count: exact`, of the larger of the expected
and the made calls); 1.0 or 0.0 when no call is expected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from monitor.core.errors import suggest
from monitor.evals.graders.base import AnswerGrader, Grade, Options, SyncGrader

if TYPE_CHECKING:
    from monitor.evals.spec import Answer, SampleSpec
    from monitor.providers.base import ToolCall

ARGUMENT_MODES = ("subset", "exact", "schema")
COUNTS = ("at_least", "exact")
_ONLY_WITH_CALLS = ("tool", "arguments", "arguments_match", "argument_graders", "order", "count")
_TARGET_FORMS = "{name, arguments}, a list of them, [] or {none: true}"
_DETAIL_CHARS = 80
# A text grader's class, as a tool_call grader builds it for one argument.
ArgumentGraderType = Callable[[str, float, Options], SyncGrader]


@dataclass(frozen=True)
class ExpectedCall:
    """One call the model should make: the function's name and its arguments (None: any)."""

    name: str
    arguments: Mapping[str, Any] | None


@dataclass(frozen=True)
class MadeCall:
    """One call the model made, its arguments parsed (None with `problem` when they cannot be read)."""

    name: str
    arguments: dict[str, Any] | None
    problem: str | None


def read_expected(target: Any) -> list[ExpectedCall]:
    """A sample's target as the expected calls; ValueError says why not, as `target.key: ...`."""
    if isinstance(target, Mapping) and set(target) == {"none"}:
        if target["none"] is not True:
            raise ValueError(f"target.none: must be true, got {_shown(target['none'])}")
        return []
    items = target if isinstance(target, list) else [target]
    calls: list[ExpectedCall] = []
    for position, item in enumerate(items):
        where = f"target[{position}]" if isinstance(target, list) else "target"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: {_shown(item)} is not a call")
        unknown = sorted(str(k) for k in item if k not in ("name", "arguments"))
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: not a call key (a call has name and arguments)")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}.name: must be the function's name, got {_shown(name)}")
        arguments = item.get("arguments")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ValueError(f"{where}.arguments: must be a mapping, got {_shown(arguments)}")
        calls.append(ExpectedCall(name, arguments))
    return calls


def read_made(call: ToolCall) -> MadeCall:
    """The model's call with its JSON arguments parsed (blank arguments are `{}`)."""
    if not call.arguments.strip():
        return MadeCall(call.name, {}, None)
    try:
        value = json.loads(call.arguments)
    except ValueError as exc:
        return MadeCall(call.name, None, f"arguments are not valid JSON ({exc}): {_quoted(call.arguments)}")
    if not isinstance(value, dict):
        return MadeCall(call.name, None, f"arguments are not a JSON object: {_quoted(call.arguments)}")
    return MadeCall(call.name, value, None)


def same_value(actual: Any, expected: Any, *, exact: bool) -> bool:
    """Equal JSON values: numbers by value, booleans apart from numbers, objects a subset unless `exact`."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and float(actual) == float(expected)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping) or (exact and set(actual) != set(expected)):
            return False
        return all(k in actual and same_value(actual[k], v, exact=exact) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_value(a, e, exact=exact) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def argument_text(value: Any) -> str:
    """An argument's value as an argument grader reads it: a string as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _shown(value: Any) -> str:
    return _quoted(json.dumps(value, ensure_ascii=False, default=str))


def _quoted(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _max_matching(fits: list[list[bool]], columns: int) -> list[int | None]:
    """For each expected call, the made call it is paired with (a maximum matching), or None."""
    owner: list[int | None] = [None] * columns

    def place(row: int, seen: set[int]) -> bool:
        for column in range(columns):
            if fits[row][column] and column not in seen:
                seen.add(column)
                taken = owner[column]
                if taken is None or place(taken, seen):
                    owner[column] = row
                    return True
        return False

    for row in range(len(fits)):
        place(row, set())
    pairs: list[int | None] = [None] * len(fits)
    for column, paired in enumerate(owner):
        if paired is not None:
            pairs[paired] = column
    return pairs


def _ordered_matching(fits: list[list[bool]], columns: int) -> list[int | None]:
    """The most expected calls matched by made calls in the same order (a longest common subsequence)."""
    rows = len(fits)
    best = [[0] * (columns + 1) for _ in range(rows + 1)]
    for r in range(rows - 1, -1, -1):
        for c in range(columns - 1, -1, -1):
            paired = best[r + 1][c + 1] + 1 if fits[r][c] else 0
            best[r][c] = max(paired, best[r + 1][c], best[r][c + 1])
    pairs: list[int | None] = [None] * rows
    r = c = 0
    while r < rows and c < columns:
        if fits[r][c] and best[r][c] == best[r + 1][c + 1] + 1:
            pairs[r] = c
            r, c = r + 1, c + 1
        elif best[r + 1][c] >= best[r][c + 1]:
            r += 1
        else:
            c += 1
    return pairs


class ToolCallGrader(AnswerGrader):
    """The answer's tool calls match the expected calls: names, arguments, order and count."""

    type = "tool_call"

    def __init__(
        self, name: str, weight: float, opts: Options, *, argument_types: Mapping[str, ArgumentGraderType]
    ) -> None:
        self.where = opts.where
        self.none = opts.boolean("none", False)
        if self.none:
            for key in _ONLY_WITH_CALLS:
                if opts.has(key):
                    raise opts.error(key, "does not apply with none: true (no tool call is expected)")
        mode = opts.string("arguments_match", "subset")
        if mode not in ARGUMENT_MODES:
            raise opts.error(
                "arguments_match", f"unknown mode {mode!r}" + suggest(str(mode), list(ARGUMENT_MODES))
            )
        self.mode = mode
        count = opts.string("count", "at_least")
        if count not in COUNTS:
            raise opts.error("count", f"unknown count {count!r}" + suggest(str(count), list(COUNTS)))
        self.exact_count = count == "exact"
        self.order = opts.boolean("order", False)
        tool = opts.string("tool")
        arguments = opts.get("arguments")
        self.expected: list[ExpectedCall] | None = [] if self.none else None
        if arguments is not None and tool is None:
            raise opts.error("arguments", "needs `tool`, the function these arguments are for")
        if tool is not None:
            if not tool.strip():
                raise opts.error("tool", "must be the function's name")
            if arguments is not None and not isinstance(arguments, Mapping):
                raise opts.error("arguments", "expected a mapping of the expected arguments")
            self.expected = [ExpectedCall(tool, arguments)]
            problem = self._schema_problem(self.expected)
            if problem:
                raise opts.error("arguments", problem)
        self.needs_target = self.expected is None
        self.argument_graders = self._argument_graders(opts, argument_types)
        self._validators: dict[str, Any] = {}
        spec: dict[str, Any] = {"none": True}  # normalised: build_graders reads it back for stored suites
        if not self.none:
            spec = {
                "tool": tool,
                "arguments": arguments,
                "arguments_match": mode,
                "argument_graders": {
                    arg: {"type": g.type, **g.spec} for arg, g in self.argument_graders.items()
                }
                or None,
                "order": self.order,
                "count": count,
                "none": False,
            }
        super().__init__(name, weight, spec)

    def _argument_graders(
        self, opts: Options, argument_types: Mapping[str, ArgumentGraderType]
    ) -> dict[str, SyncGrader]:
        raw = opts.get("argument_graders")
        if raw is None:
            return {}
        if not isinstance(raw, Mapping) or not raw:
            raise opts.error("argument_graders", "expected a mapping of argument name -> {type: ...}")
        graders: dict[str, SyncGrader] = {}
        kinds = sorted(argument_types)
        for arg, spec in raw.items():
            if not isinstance(spec, Mapping):
                raise opts.error("argument_graders", f"{arg}: expected a mapping such as {{type: match}}")
            sub = Options(
                spec, index=opts.index, source=opts.source, where=f"{opts.where}.argument_graders.{arg}"
            )
            for key in ("weight", "name"):
                if sub.has(key):
                    raise sub.error(key, "does not apply to an argument grader")
            kind = sub.string("type", required=True)
            assert kind is not None
            if kind not in argument_types:
                raise sub.error("type", f"{kind!r} cannot grade an argument" + suggest(str(kind), kinds))
            grader = argument_types[kind](str(arg), 1.0, sub)
            sub.finish()
            if self.mode == "schema" and grader.needs_target:
                raise sub.error(
                    None,
                    "needs its own value: with arguments_match: schema the expected arguments are a schema",
                )
            graders[str(arg)] = grader
        return graders

    def _schema_problem(self, calls: list[ExpectedCall]) -> str | None:
        if self.mode != "schema":
            return None
        from jsonschema.exceptions import SchemaError  # only schema-mode graders pay for jsonschema
        from jsonschema.validators import validator_for

        for call in calls:
            if call.arguments is None:
                continue
            try:
                validator_for(call.arguments).check_schema(dict(call.arguments))
            except SchemaError as exc:
                return f"{call.name}: the arguments are not a valid JSON Schema: {exc.message}"
        return None

    def check_sample(self, sample: SampleSpec) -> str | None:
        problem = super().check_sample(sample)
        if problem is not None:
            return f"{problem} (or give the grader `tool:`; its `name` is the grader's own name in results)"
        if self.expected is not None:
            return None
        try:
            calls = read_expected(sample.target)
        except ValueError as exc:
            return f"{self.where} ({self.type}): {exc}; a target is {_TARGET_FORMS}"
        problem = self._schema_problem(calls)
        if problem:
            return f"{self.where} ({self.type}): target: {problem}"
        for call in calls:
            for arg, grader in self.argument_graders.items():
                if call.arguments is not None and arg in call.arguments and self.mode != "schema":
                    problem = grader.check_sample(replace(sample, target=call.arguments[arg]))
                    if problem:
                        return f"{self.where}.argument_graders.{arg} on {call.name}: {problem}"
        return None

    def grade(self, answer: Answer, sample: SampleSpec) -> Grade:
        expected = self.expected if self.expected is not None else read_expected(sample.target)
        made = [read_made(call) for call in answer.tool_calls]
        names = ", ".join(call.name for call in made)
        if not expected:
            if made:
                return Grade(self.name, 0.0, False, f"expected no tool call, got {names}")
            return Grade(self.name, 1.0, True, "no tool call, as expected")
        wanted = ", ".join(call.name for call in expected)
        if not made:
            text = answer.text.strip()
            said = f"; the model answered in text: {_quoted(text)!r}" if text else ""
            return Grade(self.name, 0.0, False, f"expected {wanted}, got no tool call{said}")
        reasons = [[self._mismatch(e, m, sample) for m in made] for e in expected]
        fits = [[reason is None for reason in row] for row in reasons]
        pairs = _ordered_matching(fits, len(made)) if self.order else _max_matching(fits, len(made))
        matched = sum(pair is not None for pair in pairs)
        used = {pair for pair in pairs if pair is not None}
        extra = [] if not self.exact_count else [m for j, m in enumerate(made) if j not in used]
        total = max(len(expected), len(made)) if self.exact_count else len(expected)
        score = matched / total
        if matched == len(expected) and not extra:
            return Grade(self.name, 1.0, True, f"called {wanted}" + (" in order" if self.order else ""))
        problems: list[str] = []
        if self.order and sum(p is not None for p in _max_matching(fits, len(made))) > matched:
            problems.append(f"out of order: expected {wanted}, got {names}")
        else:
            problems += [
                self._missing(e, made, reasons[i], used) for i, e in enumerate(expected) if pairs[i] is None
            ]
        expected_names = {e.name for e in expected}
        for call in extra:
            repeat = call.name in expected_names
            problems.append(f"{call.name} called again" if repeat else f"extra call {call.name}")
        detail = f"{matched}/{len(expected)} expected calls matched: " + "; ".join(problems)
        return Grade(self.name, score, False, detail)

    @staticmethod
    def _missing(call: ExpectedCall, made: list[MadeCall], reasons: list[str | None], used: set[int]) -> str:
        """Why `call` found no match: the first same-name call's mismatch, else it is missing."""
        same_name = [j for j, m in enumerate(made) if m.name == call.name]
        for j in [j for j in same_name if j not in used] + same_name:
            reason = reasons[j]
            if reason is not None:
                return f"{call.name}: {reason}"
        if same_name:
            return f"{call.name} called too few times"
        return f"missing {call.name}"

    def _mismatch(self, expected: ExpectedCall, made: MadeCall, sample: SampleSpec) -> str | None:
        """Why `made` is not `expected` (None when it is)."""
        if made.name != expected.name:
            return f"called {made.name}"
        if made.arguments is None:
            return made.problem
        arguments, wanted = made.arguments, expected.arguments
        graded = set(self.argument_graders)
        if wanted is not None and self.mode == "schema":
            from jsonschema.exceptions import best_match

            error = best_match(self._validator(wanted).iter_errors(arguments))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                return f"schema violation at {where}: {error.message}"
        elif wanted is not None:
            for key, value in wanted.items():
                if key in graded:
                    continue
                if key not in arguments:
                    return f"missing argument {key!r}"
                if not same_value(arguments[key], value, exact=self.mode == "exact"):
                    return f"argument {key!r} is {_shown(arguments[key])}, expected {_shown(value)}"
            if self.mode == "exact":
                extra = sorted(k for k in arguments if k not in wanted and k not in graded)
                if extra:
                    return f"extra argument {extra[0]!r} (arguments_match: exact)"
        return self._argument_grades(arguments, wanted, sample)

    def _argument_grades(
        self, arguments: dict[str, Any], wanted: Mapping[str, Any] | None, sample: SampleSpec
    ) -> str | None:
        """The first argument grader's failure on these arguments (None when all pass)."""
        for arg, grader in self.argument_graders.items():
            named = wanted is not None and self.mode != "schema" and arg in wanted
            if not named and (grader.needs_target or arg not in arguments):
                continue
            if arg not in arguments:
                return f"missing argument {arg!r}"
            target = wanted[arg] if named and wanted is not None else None
            grade = grader.grade(argument_text(arguments[arg]), replace(sample, target=target))
            if not grade.passed:
                return f"argument {arg!r}: {grade.detail}"
        return None

    def _validator(self, schema: Mapping[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True, default=str)
        if key not in self._validators:
            from jsonschema.validators import validator_for

            self._validators[key] = validator_for(schema)(schema)
        return self._validators[key]
