"""Reading a suite's JSONL sample files: lines parsed, and plain samples read by a few checks.

`check` of a 100,000-line file must fit in the 3 s of issue 14, so the usual line (a native sample:
id, vars, target) skips json.loads' per-call set-up and read_sample's general path; any other line,
and every line with a problem, goes through those, which word the error exactly as before.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from monitor.core.errors import SuiteError
from monitor.evals.samples import (
    LONE_SURROGATE,
    MAX_KEY_CHARS,
    RESERVED_VARS,
    RawSample,
    has_lone_surrogate,
    non_finite,
    read_sample,
)
from monitor.evals.versioning import content_key
from monitor.evals.yaml_lines import describe_value, line_of

_SCAN: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]  # typeshed types the context as a scanner, not a decoder
)
"""The scanner json.loads runs (the same default decoder settings), called without its set-up."""
_EXAMPLE = '{"id": ..., "vars": {...}, "target": ...}'
_PLAIN_KEYS = frozenset(("id", "vars", "target", "choices", "group"))


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
    name = str(file)
    try:
        handle = file.open(encoding="utf-8-sig")
    except OSError as exc:
        raise SuiteError(f"cannot read: {exc.strerror}", path=name) from None
    with handle:
        number = 0
        try:
            for number, text in enumerate(handle, 1):
                if text.isspace():  # a line read from a file is never empty: blank means only whitespace
                    continue
                source = f"{name}:{number}"
                obj = parse_line(text, name, number)
                yield plain_sample(obj, source) or read_sample(obj, source)
        except UnicodeDecodeError:
            raise SuiteError("not valid UTF-8 text", path=name, line=number + 1) from None


def parse_line(text: str, file: str, number: int) -> Any:
    """A line's JSON value, exactly as json.loads reads it; a SuiteError at the line when it is not JSON.

    A line that is one value and its newline is scanned directly; any other (leading or trailing
    spaces, a byte-order mark, bad JSON) goes to json.loads, which accepts it or words the error."""
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):  # StopIteration: no JSON value starts the line
        pass
    else:
        if end == len(text) or text[end:] == "\n":
            return _valid_text(value, text, file, number)
    try:
        value = json.loads(text)
    except ValueError as exc:
        message = f"invalid JSON: {exc}; each line must be one JSON object such as {_EXAMPLE}"
        raise SuiteError(message, path=file, line=number) from None
    return _valid_text(value, text, file, number)


def _valid_text(value: Any, text: str, file: str, number: int) -> Any:
    """`value`, unless an escape in the line made a lone surrogate; only an escape can (the file is
    UTF-8), so lines without one cost a substring search."""
    if "\\ud" in text.lower() and has_lone_surrogate(value):
        raise SuiteError(LONE_SURROGATE, path=file, line=number)
    return value


def plain_sample(obj: Any, source: str) -> RawSample | None:
    """What read_sample gives for a valid native sample of the common shape, by a few plain checks;
    None for any other value (read_sample then reads it, or words its error).

    The shape: a JSON object (its keys are strings) of only id (a string or an integer), vars (no
    reserved name), target (no NaN or Infinity), choices (strings) and group (a string).
    """
    if type(obj) is not dict or not obj.keys() <= _PLAIN_KEYS:
        return None
    variables = obj.get("vars", {})
    if type(variables) is not dict or not variables.keys().isdisjoint(RESERVED_VARS):
        return None
    target = obj.get("target")
    if type(target) is not str and type(target) is not int and non_finite(target):
        return None
    choices = obj.get("choices")
    if choices is not None:
        if type(choices) is not list or not choices or not all(type(c) is str for c in choices):
            return None
        choices = list(choices)
    group = obj.get("group")
    if group is not None and (type(group) is not str or len(group) > MAX_KEY_CHARS):
        return None
    value = obj.get("id")
    if value is None:
        key = content_key(obj)
    elif type(value) is str or type(value) is int:
        key = str(value)
        if not key or key.isspace() or len(key) > MAX_KEY_CHARS:
            return None
    else:
        return None
    # positional: keyword arguments would make this call half the function's time
    return RawSample(key, source, target, choices, group, variables, None, value is not None, {})
