"""Strict conformance of request bodies to the SDKs' param TypedDicts: no unknown key, none missing, types."""

from __future__ import annotations

import collections.abc
import types
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints

from typing_extensions import is_typeddict

_SEQUENCES = (list, collections.abc.Iterable, collections.abc.Sequence)
_MAPPINGS = (dict, collections.abc.Mapping)


def violations(value: Any, tp: Any, path: str = "$") -> list[str]:
    """Every way `value` breaks the type `tp` (an SDK TypedDict, union, literal, list...); [] conforms."""
    origin = get_origin(tp)
    if tp in (Any, object):
        return []
    if origin in (Required, NotRequired) or (origin is not None and hasattr(tp, "__metadata__")):
        return violations(value, get_args(tp)[0], path)
    if is_typeddict(tp):
        return _typeddict_violations(value, tp, path)
    if origin in (Union, types.UnionType):
        tries = [violations(value, option, path) for option in get_args(tp)]
        return [] if any(not found for found in tries) else min(tries, key=len)
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{path}: {value!r} is not one of {get_args(tp)}"]
    if origin in _SEQUENCES:
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        (item,) = get_args(tp) or (Any,)
        return [v for i, element in enumerate(value) for v in violations(element, item, f"{path}[{i}]")]
    if origin in _MAPPINGS or tp in _MAPPINGS:
        return [] if isinstance(value, dict) else [f"{path}: not an object"]
    if tp is type(None):
        return [] if value is None else [f"{path}: not null"]
    if tp is float:
        return (
            []
            if isinstance(value, int | float) and not isinstance(value, bool)
            else [f"{path}: not a number"]
        )
    if isinstance(tp, type):
        fits = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        return [] if fits else [f"{path}: not {tp.__name__}"]
    raise AssertionError(f"{path}: cannot check against {tp!r}")


def _typeddict_violations(value: Any, tp: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: not an object ({tp.__name__})"]
    hints = get_type_hints(tp, include_extras=True)
    required = {
        key
        for key, hint in hints.items()
        if get_origin(hint) is Required or (tp.__total__ and get_origin(hint) is not NotRequired)
    }
    found = [f"{path}.{key}: not a key of {tp.__name__}" for key in value if key not in hints]
    found += [f"{path}.{key}: missing from {tp.__name__}" for key in sorted(required - set(value))]
    for key, element in value.items():
        if key in hints:
            found += violations(element, hints[key], f"{path}.{key}")
    return found
