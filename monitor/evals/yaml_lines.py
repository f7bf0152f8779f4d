"""Suite YAML that remembers line numbers, and the helpers that put those lines into SuiteErrors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from monitor.core.errors import SuiteError, suggest


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers its line and each key's line."""

    line: int | None = None
    key_lines: dict[Any, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers its line and each item's line."""

    line: int | None = None
    item_lines: dict[int, int]


class _Loader(yaml.SafeLoader):
    """A safe loader building _Map and _Seq, so every error can name its line."""

    source = ""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, dict | list):
            hint = ' (quote Jinja templates in YAML: user: "{{ question }}")'
            raise SuiteError("a mapping or a list cannot be a key" + hint, path=loader.source, line=line)
        if key in result.key_lines:
            raise SuiteError(
                f"duplicate key {key!r} (first at line {result.key_lines[key]})",
                path=loader.source,
                line=line,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = {i: child.start_mark.line + 1 for i, child in enumerate(node.value)}
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))  # dates stay text: targets and vars must be JSON


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document in `text`, its mappings and lists knowing their lines; SuiteError naming `source`."""
    loader = _Loader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.problem and "unhashable" in exc.problem:
            message += ' (quote Jinja templates in YAML: user: "{{ question }}")'
        raise SuiteError(message, path=source, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"invalid YAML: {exc}", path=source) from None
    finally:
        loader.dispose()


def line_of(container: Any, key: Any) -> int | None:
    """The line of `key` (a mapping key or a list index) in `container`, else the container's own line."""
    if isinstance(container, _Map):
        return container.key_lines.get(key, container.line)
    if isinstance(container, _Seq):
        return container.item_lines.get(key, container.line)
    return None


def describe_value(value: Any) -> str:
    """What a value is, for "expected X, got Y" messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def reject_unknown_keys(
    data: dict[Any, Any], allowed: Sequence[str], where: str, path: str, container: Any
) -> None:
    """Raise a SuiteError at the first key of `data` not in `allowed`, suggesting the closest one."""
    for key in data:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            message = f"unknown key '{prefix}{key}'" + suggest(str(key), sorted(allowed))
            raise SuiteError(message, path=path, line=line_of(container, key))
