"""The json grader: the answer holds valid JSON, optionally matching a JSON Schema and the target's fields.

The JSON is the whole answer, else the first ```json (or bare ```) fenced block, else the first
`{...}` object that parses inside surrounding prose.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from monitor.evals.graders.base import Grade, Options, SyncGrader

if TYPE_CHECKING:
    from monitor.evals.spec import SampleSpec

_FENCE = re.compile(r"```[ \t]*(?:json5?|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
_MISSING = object()


def extract_json(text: str) -> tuple[Any, str | None]:
    """The JSON value in `text` (whole, fenced, or the first object in prose), or (_MISSING, why)."""
    stripped = text.strip()
    try:
        return json.loads(stripped), None
    except ValueError:
        pass
    for block in _FENCE.finditer(text):
        try:
            return json.loads(block.group(1)), None
        except ValueError as exc:
            return _MISSING, f"the fenced block is not valid JSON: {exc}"
    start = text.find("{")
    while start != -1:
        try:
            value, _end = _DECODER.raw_decode(text, start)
            return value, None
        except ValueError:
            start = text.find("{", start + 1)
    return _MISSING, "no JSON object in the answer"


def _same(actual: Any, expected: Any) -> bool:
    """Equal after normalising: strings case-insensitive and stripped, 1 == 1.0, bools never numbers;
    an object matches when every expected key is there and equal (extra keys are fine)."""
    if isinstance(expected, str):
        return isinstance(actual, str) and actual.strip().casefold() == expected.strip().casefold()
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and float(actual) == float(expected)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _same(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def target_fields(target: Any) -> dict[str, Any] | None:
    """The target as a dict of expected fields (a JSON string target is parsed), or None."""
    if isinstance(target, str):
        try:
            target = json.loads(target)
        except ValueError:
            return None
    return target if isinstance(target, dict) else None


class JsonGrader(SyncGrader):
    """Valid JSON; with `schema` it must validate; with `match_target` every target field must be equal."""

    type = "json"

    def __init__(self, name: str, weight: float, opts: Options) -> None:
        schema = opts.get("schema")
        self.validator: Any = None
        if schema is not None:
            if not isinstance(schema, dict):
                raise opts.error("schema", "expected a JSON Schema mapping")
            from jsonschema.exceptions import SchemaError  # only graders with a schema pay for jsonschema
            from jsonschema.validators import validator_for

            cls = validator_for(schema)
            try:
                cls.check_schema(schema)
            except SchemaError as exc:
                raise opts.error("schema", f"invalid JSON Schema: {exc.message}") from None
            self.validator = cls(schema)
        self.match_target = opts.boolean("match_target", False)
        self.needs_target = self.match_target
        super().__init__(name, weight, {"schema": schema, "match_target": self.match_target})

    def check_sample(self, sample: SampleSpec) -> str | None:
        problem = super().check_sample(sample)
        if problem is None and self.match_target and target_fields(sample.target) is None:
            problem = (
                f"json match_target needs a target object (or a JSON string of one), got {sample.target!r}"
            )
        return problem

    def grade(self, output: str, sample: SampleSpec) -> Grade:
        value, why = extract_json(output)
        if value is _MISSING:
            return Grade(self.name, 0.0, False, why or "no JSON")
        if self.validator is not None:
            from jsonschema.exceptions import best_match

            error = best_match(self.validator.iter_errors(value))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                return Grade(self.name, 0.0, False, f"schema violation at {where}: {error.message}")
        if self.match_target:
            expected = target_fields(sample.target) or {}
            if not isinstance(value, dict):
                return Grade(self.name, 0.0, False, "the JSON is not an object")
            for key, want in expected.items():
                if key not in value:
                    return Grade(self.name, 0.0, False, f"missing field {key!r}")
                if not _same(value[key], want):
                    return Grade(self.name, 0.0, False, f"field {key!r} is {value[key]!r}, expected {want!r}")
        return Grade(self.name, 1.0, True, "valid JSON" + (", fields match" if self.match_target else ""))
