"""A suite's own settings: its `params` and `judge` read and checked, each error at its line."""

from __future__ import annotations

from typing import Any

from monitor.core.errors import SuiteError
from monitor.evals.yaml_lines import describe_value, line_of, reject_unknown_keys

PARAM_KEYS = ("temperature", "max_tokens", "seed", "top_p", "stop", "reasoning_effort", "thinking_budget")


def read_params(data: Any, container: Any, path: str) -> dict[str, Any]:
    """A suite's (or a variant's) `params`, each checked against what providers accept."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SuiteError(
            f"params: expected a mapping, got {describe_value(data)}",
            path=path,
            line=line_of(container, "params"),
        )
    reject_unknown_keys(data, PARAM_KEYS, "params", path, data)
    checks: dict[str, tuple[Any, str]] = {
        "temperature": (lambda v: is_number(v) and 0 <= v <= 2, "a number from 0 to 2"),
        "max_tokens": (lambda v: is_int(v) and v >= 1, "a positive integer"),
        "seed": (is_int, "an integer"),
        "top_p": (lambda v: is_number(v) and 0 < v <= 1, "a number in (0, 1]"),
        "stop": (
            lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)),
            "a string or a list of strings",
        ),
        "reasoning_effort": (lambda v: isinstance(v, str) and v.strip() != "", "a string such as 'low'"),
        "thinking_budget": (lambda v: is_int(v) and v >= 1024, "an integer of at least 1024 (tokens)"),
    }
    for key, value in data.items():
        valid, expected = checks[key]
        if not valid(value):
            raise SuiteError(
                f"params.{key}: expected {expected}, got {describe_value(value)}",
                path=path,
                line=line_of(data, key),
            )
    return dict(data)


def is_number(value: Any) -> bool:
    """An int or a float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """An int, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def read_judge(data: Any, container: Any, path: str) -> str | None:
    """The suite's `judge: {model: provider:model}`, or None."""
    if data is None:
        return None
    line = line_of(container, "judge")
    if not isinstance(data, dict):
        raise SuiteError(
            f"judge: expected a mapping {{model: provider:model}}, got {describe_value(data)}",
            path=path,
            line=line,
        )
    reject_unknown_keys(data, ("model",), "judge", path, data)
    model = data.get("model")
    if not isinstance(model, str) or ":" not in model.strip(":"):
        raise SuiteError(
            f"judge.model: expected 'provider:model', got {model!r}", path=path, line=line_of(data, "model")
        )
    return model
