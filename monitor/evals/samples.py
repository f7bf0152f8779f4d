"""Reading samples (native, OpenAI Evals or Inspect) from a suite's `samples` list or its JSONL files."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.core.errors import SuiteError
from monitor.evals.graders.base import suggest
from monitor.evals.versioning import content_key
from monitor.evals.yaml_lines import describe_value, line_of

NATIVE_KEYS = ("id", "vars", "target", "choices", "group", "metadata")
INSPECT_KEYS = ("input", "target", "choices", "id", "metadata", "group", "sandbox", "files", "setup")
ROLES = ("system", "developer", "user", "assistant")
RESERVED_VARS = ("target", "choices", "letters")
MAX_KEY_CHARS = 300


@dataclass
class RawSample:
    """A sample as read from YAML or JSONL, before its prompt is rendered."""

    key: str
    source: str
    target: Any
    choices: list[str] | None
    group: str | None
    vars: dict[str, Any]
    messages: list[dict[str, str]] | None  # given as-is (OpenAI Evals / Inspect message lists)
    has_id: bool


def sample_error(message: str, source: str) -> SuiteError:
    """A SuiteError at a sample's `file:line` source."""
    path, _, line = source.rpartition(":")
    return SuiteError(message, path=path, line=int(line))


def _read_messages(value: Any, source: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise sample_error("input: expected a string or a non-empty list of {role, content} messages", source)
    messages = []
    for i, message in enumerate(value):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise sample_error(f"input[{i}]: expected a message {{role, content}}", source)
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise sample_error(f"input[{i}].role: expected one of {', '.join(ROLES)}, got {role!r}", source)
        if isinstance(content, list):  # Inspect content parts: keep the text ones
            if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                raise sample_error(f"input[{i}].content: only text content is supported", source)
            content = "".join(str(p.get("text", "")) for p in content)
        if not isinstance(content, str):
            raise sample_error(
                f"input[{i}].content: expected a string, got {describe_value(content)}", source
            )
        messages.append({"role": role, "content": content})
    return messages


def _read_key(obj: dict[str, Any], source: str) -> str:
    value = obj.get("id")
    if value is None:
        return content_key(obj)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise sample_error(f"id: expected a string or an integer, got {describe_value(value)}", source)
    key = str(value)
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise sample_error(f"id: expected 1 to {MAX_KEY_CHARS} characters, got {len(key)}", source)
    return key


def _read_choices(value: Any, source: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(c, str | int | float) for c in value):
        raise sample_error(
            f"choices: expected a non-empty list of strings, got {describe_value(value)}", source
        )
    return [str(c) for c in value]


def _read_group(value: Any, source: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise sample_error(f"group: expected a string, got {describe_value(value)}", source)
    if len(str(value)) > MAX_KEY_CHARS:
        raise sample_error(f"group: longer than {MAX_KEY_CHARS} characters", source)
    return str(value)


def read_sample(obj: Any, source: str) -> RawSample:
    """A native, OpenAI Evals or Inspect sample, told apart by its keys."""
    if not isinstance(obj, dict):
        raise sample_error(f"expected a JSON object (a sample), got {describe_value(obj)}", source)
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise sample_error(f"metadata: expected a mapping, got {describe_value(metadata)}", source)
    messages: list[dict[str, str]] | None = None
    if "input" in obj and "ideal" in obj:  # OpenAI Evals; other keys are kept as vars
        target = obj["ideal"]
        if not isinstance(target, str | list):
            raise sample_error(
                f"ideal: expected a string or a list of strings, got {describe_value(target)}", source
            )
        variables = {k: v for k, v in obj.items() if k not in ("input", "ideal", "id", "group")}
        choices = None
    elif "input" in obj:  # Inspect
        _check_keys(obj, INSPECT_KEYS, source)
        target = obj.get("target")
        choices = _read_choices(obj.get("choices"), source)
        variables = {"metadata": metadata} if metadata is not None else {}
    else:  # native
        _check_keys(obj, NATIVE_KEYS, source)
        target = obj.get("target")
        choices = _read_choices(obj.get("choices"), source)
        variables = obj.get("vars", {})
        if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
            raise sample_error(
                f"vars: expected a mapping of names to values, got {describe_value(variables)}", source
            )
        variables = dict(variables)
        if metadata is not None:
            if "metadata" in variables:
                raise sample_error("vars.metadata clashes with the sample's metadata; rename one", source)
            variables["metadata"] = metadata
    if "input" in obj:
        value = obj["input"]
        if isinstance(value, str):
            variables = {"input": value, **variables}
        else:
            messages = _read_messages(value, source)
    clash = [name for name in RESERVED_VARS if name in variables]
    if clash:
        raise sample_error(f"vars: {clash[0]!r} is reserved (the sample's own {clash[0]}); rename it", source)
    return RawSample(
        key=_read_key(obj, source),
        source=source,
        target=target,
        choices=choices,
        group=_read_group(obj.get("group"), source),
        vars=variables,
        messages=messages,
        has_id=obj.get("id") is not None,
    )


def _check_keys(obj: dict[str, Any], allowed: Sequence[str], source: str) -> None:
    for key in obj:
        if key not in allowed:
            shape = "an Inspect sample" if "input" in obj else "a sample"
            message = f"unknown key {key!r} in {shape}" + suggest(str(key), sorted(allowed))
            raise sample_error(message, source)


def inline_samples(data: Any, container: Any, path: str) -> Iterator[RawSample]:
    """The samples of a suite's `samples` list, each sourced at its YAML line."""
    if data is None:
        return
    if not isinstance(data, list):
        raise SuiteError(
            f"samples: expected a list, got {describe_value(data)}",
            path=path,
            line=line_of(container, "samples"),
        )
    for i, obj in enumerate(data):
        yield read_sample(obj, f"{path}:{line_of(data, i) or 0}")


def file_samples(data: Any, container: Any, suite_path: Path) -> Iterator[RawSample]:
    """The samples of the JSONL files a suite's `samples_files` names (relative to the suite file)."""
    if data is None:
        return
    path = str(suite_path)
    line = line_of(container, "samples_files")
    files = [data] if isinstance(data, str) else data
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise SuiteError(
            f"samples_files: expected a file name or a list of them, got {describe_value(data)}",
            path=path,
            line=line,
        )
    for name in files:
        file = Path(name).expanduser()
        if not file.is_absolute():
            file = suite_path.parent / file
        if not file.is_file():
            raise SuiteError(f"samples_files: {name!r} not found (looked for {file})", path=path, line=line)
        yield from read_jsonl(file)


def read_jsonl(file: Path) -> Iterator[RawSample]:
    """Samples from a JSONL file, one JSON object a line (blank lines skipped)."""
    try:
        handle = file.open(encoding="utf-8-sig")
    except OSError as exc:
        raise SuiteError(f"cannot read: {exc.strerror}", path=str(file)) from None
    with handle:
        number = 0
        try:
            for number, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except ValueError as exc:
                    example = '{"id": ..., "vars": {...}, "target": ...}'
                    message = f"invalid JSON: {exc}; each line must be one JSON object such as {example}"
                    raise SuiteError(message, path=str(file), line=number) from None
                yield read_sample(obj, f"{file}:{number}")
        except UnicodeDecodeError:
            raise SuiteError("not valid UTF-8 text", path=str(file), line=number + 1) from None
