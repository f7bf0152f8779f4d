"""Pydantic validation errors -> one readable line per problem: the key, what is expected, a typo hint."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

PROVIDER_TYPES = ("openai", "anthropic", "gemini", "openai-compatible")


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model whose fields are valid at this location (for typo suggestions)."""
    model: type[BaseModel] = root
    parts = [p for p in loc if isinstance(p, str)]
    i = 0
    while i < len(parts):
        field = model.model_fields.get(parts[i]) or next(
            (f for f in model.model_fields.values() if f.alias == parts[i]), None
        )
        if field is None:
            return None
        inner = _unwrap(field.annotation)
        if inner is None:
            return None
        i += 2 if getattr(field.annotation, "__origin__", None) is dict else 1
        model = inner
    return model


def _unwrap(annotation: Any) -> type[BaseModel] | None:
    """Reach the model inside `X | None` or `dict[str, X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        inner = _unwrap(arg)
        if inner is not None:
            return inner
    return None


def _key_parts(loc: tuple[int | str, ...]) -> list[str]:
    """['notify[2]', 'on'] for loc ('notify', 1, 'on', 0): an index into an array of tables names the
    table (counted from 1, as a user counts them); an index into a list of values is left out."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, str):
            parts.append(part)
        elif parts and i + 1 < len(loc) and isinstance(loc[i + 1], str):
            parts[-1] += f"[{part + 1}]"
    return parts


def _section_name(key_loc: tuple[int | str, ...]) -> str:
    """The table holding the key at `key_loc`, as `[notify[2]]`."""
    parts = _key_parts(key_loc)[:-1]
    return "[" + ".".join(parts) + "]" if parts else "the top level"


def explain(exc: ValidationError, root: type[BaseModel]) -> str:
    """Every error of `exc`, validated against `root`, as one line separated by semicolons."""
    messages = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            parent, key = loc[:-1], str(loc[-1])
            model = _model_at(root, parent)
            known = [f.alias or n for n, f in model.model_fields.items() if n != "path"] if model else []
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            messages.append(f"unknown key '{key}' in {_section_name(loc)}{hint}")
            continue
        key = ".".join(_key_parts(loc)) or "(file)"
        value = err.get("input")
        if err["type"] == "literal_error" and loc[-1] == "type":
            messages.append(
                f"[{key}] = {value!r} is not a provider type; expected one of: {', '.join(PROVIDER_TYPES)}"
            )
            continue
        if err["type"] == "missing":
            messages.append(f"[{key}] is required")
            continue
        if err["type"] in _NUMBER_TYPES and isinstance(value, str):
            messages.append(_quoted_number(key, err["msg"], value))
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if key == "(file)" or (err["type"] == "value_error" and msg.startswith("[")):
            messages.append(msg)
        else:
            messages.append(f"[{key}] {msg} (got {value!r})")
    return "; ".join(messages)


# Strict validation's errors for a string where a number or boolean belongs.
_NUMBER_TYPES = ("int_type", "float_type", "bool_type")


def _quoted_number(key: str, msg: str, value: str) -> str:
    """`max_concurrency = "16"`: say to drop the quotes (TOML strings are never read as numbers)."""
    name = key.rpartition(".")[2]
    try:
        float(value)
    except ValueError:
        return f"[{key}] {msg}, not the string {value!r}"
    return f"[{key}] {msg}, not the string {value!r}: write {name} = {value.strip()} without quotes"
