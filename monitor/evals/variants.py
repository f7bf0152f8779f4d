"""Prompt variants: a suite's named prompt/params overrides, each run and versioned as its own suite.

A variant `cot` of suite `support` is the suite version named `support[cot]` (docs/suites.md
"Variants"); the suite's own prompt is the variant `default` and keeps the plain name.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.core.errors import SuiteError
from monitor.evals.yaml_lines import describe_value, line_of, reject_unknown_keys

DEFAULT = "default"
ALL = "all"
VARIANT_KEYS = ("description", "prompt", "params", "response_format", "tool_choice")
VARIANT_NAME = re.compile(r"^[a-z0-9_-]{1,40}$")
_QUALIFIED = re.compile(r"^(?P<base>[a-z0-9_-]+)\[(?P<variant>[a-z0-9_-]{1,40})\]$")


def qualified_name(base: str, variant: str | None) -> str:
    """The stored suite name of a variant: `support[cot]`; the default variant keeps `support`."""
    return base if variant in (None, DEFAULT) else f"{base}[{variant}]"


def split_name(name: str) -> tuple[str, str | None]:
    """`support[cot]` -> ("support", "cot"); a plain name -> (name, None)."""
    match = _QUALIFIED.match(name)
    return (match["base"], match["variant"]) if match else (name, None)


def read_variants(data: Any, container: Any, path: str) -> dict[str, dict[str, Any]]:
    """A suite's `variants` mapping: name -> overrides of VARIANT_KEYS, checked for shape only
    (each variant's prompt and params are read like the suite's own when that variant loads)."""
    if data is None:
        return {}
    line = line_of(container, "variants")
    if not isinstance(data, dict) or not data:
        message = f"variants: expected a mapping of names to {{prompt, params}}, got {describe_value(data)}"
        raise SuiteError(message, path=path, line=line)
    variants: dict[str, dict[str, Any]] = {}
    for name, body in data.items():
        at = line_of(data, name)
        if not isinstance(name, str) or not VARIANT_NAME.match(name) or name in (DEFAULT, ALL):
            message = (
                f"variants: {name!r} is not a variant name (1-40 lower-case letters, digits, '-' or '_'; "
                f"not {DEFAULT!r} or {ALL!r})"
            )
            raise SuiteError(message, path=path, line=at)
        if not isinstance(body, dict) or not body:
            got = describe_value(body)
            message = f"variants.{name}: expected a mapping with prompt and/or params, got {got}"
            raise SuiteError(message, path=path, line=at)
        reject_unknown_keys(body, VARIANT_KEYS, f"variants.{name}", path, body)
        if not any(key in body for key in VARIANT_KEYS[1:]):
            message = f"variants.{name}: set prompt, params, response_format or tool_choice"
            raise SuiteError(message, path=path, line=at)
        variants[name] = body
    return variants


def choose(wanted: str | None, declared: list[str]) -> list[str | None]:
    """The variants of one suite to load for `wanted` (None/default, a name, or all); None is the
    default; a name the suite does not declare selects nothing of it."""
    if wanted in (None, DEFAULT):
        return [None]
    if wanted == ALL:
        return [None, *declared]
    return [wanted] if wanted in declared else []
