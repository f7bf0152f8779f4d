"""Load a simulator script (YAML): the models, their release/removal schedule, faults and options.

Format (all keys optional)::

    rpm_limit: 600                 # requests per minute over all providers; beyond it 429 + retry-after
    latency_scale: 1.0             # multiplies every model's latency (0 = answer at once)
    openai_list_quirk: bare_array  # or data_null, no_created: mimic OpenAI-compatible servers
    api_key: sim-key               # the one key all three providers accept (null: keyless)
    batch_delay_s: 0               # batches: seconds until the last item is answered
    batch_item_failure_rate: 0     # batches: share of items answered with a 500
    batch_window_s: 86400          # batches: the completion window; items not answered by then expire
    models:                        # replaces the default line-up; fields of SimModel
      - id: gpt-sim-base
        provider: openai           # openai | anthropic | gemini
        skill: 0.8                 # chance of a right answer (deterministic per prompt)
        latency_ms: 200
        latency_jitter_ms: 50
      - id: gpt-sim-next
        provider: openai
        release_after_polls: 2     # listed from the 3rd poll of the OpenAI list on
      - id: claude-sim-old-20240101
        provider: anthropic
        remove_at: "2026-11-25T10:00:00Z"   # gone from the list (and chat) at that time
    faults:                        # fields of Fault
      - kind: rate_limit           # rate_limit | server_error | overloaded | timeout | reset
        model: gpt-sim-base        #   | malformed_json | truncated | loading | quota_daily
                                   #   | spend_limit | empty_object | refusal | content_filter
                                   #   | pause_turn | context_window (docs/simulator.md)
        count: 3                   # the first 3 matching requests, or `rate: 0.1` for 10 %
        retry_after: 0.05
      - kind: server_error
        provider: gemini
        endpoint: models           # chat (default), models or batch (the batch calls)
        rate: 0.2

A poll is one complete list request of a provider (its first page). `release_after_polls: N` hides a
model from the first N polls; `remove_after_polls: N` shows it in the first N polls only.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from monitor.core.errors import InputError
from monitor.simulator.catalog import SimModel
from monitor.simulator.faults import Fault

OPTION_KEYS = (
    "rpm_limit",
    "latency_scale",
    "openai_list_quirk",
    "api_key",
    "seed",
    "batch_delay_s",
    "batch_item_failure_rate",
    "batch_window_s",
)
DATETIME_FIELDS = ("created", "release_at", "remove_at")


def load_script(path: str | Path) -> tuple[list[SimModel], list[Fault], dict[str, Any]]:
    """Parse a script file; raises InputError naming the file, the line and the key on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read simulator script: {exc.strerror}", path=name) from exc
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=name, line=line) from exc
    if data is None:
        return [], [], {}
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise InputError(
            "a simulator script must be a mapping of models, faults and options", path=name, line=1
        )
    lines = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
    allowed = ("models", "faults", *OPTION_KEYS)
    for key in data:
        if key not in allowed:
            line = lines[key].start_mark.line + 1 if key in lines else None
            raise InputError(
                f"unknown key {key!r} (expected one of: {', '.join(allowed)})", path=name, line=line
            )
    models = [
        _build(SimModel, item, name, _item_line(lines.get("models"), i), f"models[{i}]")
        for i, item in enumerate(_list(data, "models", name, lines))
    ]
    faults = [
        _build(Fault, item, name, _item_line(lines.get("faults"), i), f"faults[{i}]")
        for i, item in enumerate(_list(data, "faults", name, lines))
    ]
    options = {key: data[key] for key in OPTION_KEYS if key in data}
    return models, faults, options


def _list(data: dict[str, Any], key: str, name: str, lines: dict[str, yaml.Node]) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise InputError(f"{key!r} must be a list", path=name, line=lines[key].start_mark.line + 1)
    return value


def _item_line(node: yaml.Node | None, index: int) -> int | None:
    if isinstance(node, yaml.SequenceNode) and index < len(node.value):
        return int(node.value[index].start_mark.line) + 1
    return None


def _build(cls: Any, item: Any, name: str, line: int | None, where: str) -> Any:
    if not isinstance(item, dict):
        raise InputError(f"{where} must be a mapping of {cls.__name__} fields", path=name, line=line)
    fields = {f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}
    for key in item:
        if key not in fields:
            raise InputError(
                f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(fields))})",
                path=name,
                line=line,
            )
    values = dict(item)
    for key in DATETIME_FIELDS:
        if key in values and values[key] is not None:
            try:
                values[key] = _datetime(values[key])
            except ValueError as exc:
                raise InputError(f"{where}.{key}: {exc}", path=name, line=line) from exc
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}", path=name, line=line) from exc


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f'expected a date-time like "2026-11-25T10:00:00Z", not {value!r}')
