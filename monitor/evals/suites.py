"""Eval suites: load evals/NAME.yaml and its JSONL samples, render every prompt, hash the resolved content.

The format is documented in docs/suites.md. Every error names the file, the line and what is expected.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.core.errors import SuiteError
from monitor.evals.graders import Grader, LLMJudgeGrader, build_graders, describe
from monitor.evals.graders.base import suggest
from monitor.evals.spec import SampleSpec
from monitor.store import tables as models

SUITE_KEYS = (
    "name",
    "description",
    "prompt",
    "params",
    "graders",
    "pass_threshold",
    "judge",
    "samples_files",
    "samples",
)
PROMPT_KEYS = ("system", "user", "messages")
PARAM_KEYS = ("temperature", "max_tokens", "seed", "top_p", "stop", "reasoning_effort")
NATIVE_KEYS = ("id", "vars", "target", "choices", "group", "metadata")
INSPECT_KEYS = ("input", "target", "choices", "id", "metadata", "group", "sandbox", "files", "setup")
ROLES = ("system", "developer", "user", "assistant")
RESERVED_VARS = ("target", "choices", "letters")
NAME_PATTERN = re.compile(r"^[a-z0-9_-]+$")
MAX_KEY_CHARS = 300
VERSION_CHARS = 16
HASH_KEY_CHARS = 16
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")


@dataclass(frozen=True)
class SuiteSpec:
    """One suite version: everything needed to run and grade it, and its content hash."""

    name: str
    description: str
    path: Path
    version: str
    params: dict[str, Any]
    graders: list[Grader]
    pass_threshold: float
    samples: list[SampleSpec]
    judge_model: str | None
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def needs_judge(self) -> bool:
        return any(isinstance(g, LLMJudgeGrader) for g in self.graders)

    @property
    def judge_models(self) -> list[str]:
        """The judge model keys the suite's llm_judge graders name (their own `model`, else the suite's)."""
        return sorted({g.model for g in self.graders if isinstance(g, LLMJudgeGrader) and g.model})


# --- YAML with line numbers --------------------------------------------------------------------


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers its line and each key's line."""

    line: int | None = None
    key_lines: dict[Any, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers its line and each item's line."""

    line: int | None = None
    item_lines: dict[int, int]


class _Loader(yaml.SafeLoader):
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


def _parse_yaml(text: str, source: str) -> Any:
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


def _line(container: Any, key: Any) -> int | None:
    if isinstance(container, _Map):
        return container.key_lines.get(key, container.line)
    if isinstance(container, _Seq):
        return container.item_lines.get(key, container.line)
    return None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _unknown_keys(data: dict[Any, Any], allowed: Sequence[str], where: str, path: str, line_of: Any) -> None:
    for key in data:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            message = f"unknown key '{prefix}{key}'" + suggest(str(key), sorted(allowed))
            raise SuiteError(message, path=path, line=_line(line_of, key))


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same content always gives the same text (and hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# --- the prompt --------------------------------------------------------------------------------

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class _Prompt:
    """The suite's message templates, compiled once."""

    parts: list[tuple[str, Any]]  # (role, compiled template, or the text itself when it has no Jinja)
    raw: list[dict[str, Any]]


def _compile(text: Any, where: str, path: str, line: int | None) -> Any:
    if not isinstance(text, str):
        hint = ' (quote Jinja templates in YAML: "{{ question }}")' if isinstance(text, dict) else ""
        raise SuiteError(
            f"{where}: expected a string template, got {_describe(text)}{hint}", path=path, line=line
        )
    if not any(marker in text for marker in ("{{", "{%", "{#")):
        return text
    try:
        return _ENV.from_string(text)
    except TemplateSyntaxError as exc:
        at = (line or 1) + (exc.lineno or 1) - 1
        raise SuiteError(f"{where}: template syntax error: {exc.message}", path=path, line=at) from None


def _read_prompt(data: Any, container: Any, path: str) -> _Prompt | None:
    if data is None:
        return None
    line = _line(container, "prompt")
    if isinstance(data, str):
        raise SuiteError(
            "prompt: expected a mapping with `user` (and `system`) or `messages`", path=path, line=line
        )
    if not isinstance(data, dict):
        raise SuiteError(f"prompt: expected a mapping, got {_describe(data)}", path=path, line=line)
    _unknown_keys(data, PROMPT_KEYS, "prompt", path, data)
    raw: list[dict[str, Any]] = []
    lines: list[int | None] = []
    wheres: list[str] = []
    if "messages" in data:
        if "system" in data or "user" in data:
            message = "prompt: use either `messages` or `system` + `user`, not both"
            raise SuiteError(message, path=path, line=_line(data, "messages"))
        messages = data["messages"]
        if not isinstance(messages, list) or not messages:
            message = "prompt.messages: expected a non-empty list of {role, content}"
            raise SuiteError(message, path=path, line=_line(data, "messages"))
        for i, item in enumerate(messages):
            where = f"prompt.messages[{i}]"
            at = _line(messages, i)
            if not isinstance(item, dict):
                raise SuiteError(f"{where}: expected a mapping {{role, content}}", path=path, line=at)
            _unknown_keys(item, ("role", "content"), where, path, item)
            role = item.get("role")
            if role not in ROLES:
                expected = ", ".join(ROLES)
                raise SuiteError(
                    f"{where}.role: expected one of {expected}, got {role!r}", path=path, line=at
                )
            raw.append({"role": role, "content": item.get("content")})
            lines.append(at)
            wheres.append(f"{where}.content")
    else:
        if "user" not in data:
            raise SuiteError("prompt.user: required (the user message template)", path=path, line=line)
        for role in ("system", "user"):
            if role in data:
                raw.append({"role": role, "content": data[role]})
                lines.append(_line(data, role))
                wheres.append(f"prompt.{role}")
    parts = [
        (item["role"], _compile(item["content"], where, path, at))
        for item, where, at in zip(raw, wheres, lines, strict=True)
    ]
    return _Prompt(parts, raw)


# --- samples -----------------------------------------------------------------------------------


@dataclass
class _RawSample:
    """A sample as read from YAML or JSONL, before its prompt is rendered."""

    key: str
    source: str
    target: Any
    choices: list[str] | None
    group: str | None
    vars: dict[str, Any]
    messages: list[dict[str, str]] | None  # given as-is (OpenAI Evals / Inspect message lists)
    has_id: bool


def _sample_error(message: str, source: str) -> SuiteError:
    path, _, line = source.rpartition(":")
    return SuiteError(message, path=path, line=int(line))


def _read_messages(value: Any, source: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise _sample_error(
            "input: expected a string or a non-empty list of {role, content} messages", source
        )
    messages = []
    for i, message in enumerate(value):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise _sample_error(f"input[{i}]: expected a message {{role, content}}", source)
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise _sample_error(f"input[{i}].role: expected one of {', '.join(ROLES)}, got {role!r}", source)
        if isinstance(content, list):  # Inspect content parts: keep the text ones
            if not all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                raise _sample_error(f"input[{i}].content: only text content is supported", source)
            content = "".join(str(p.get("text", "")) for p in content)
        if not isinstance(content, str):
            raise _sample_error(f"input[{i}].content: expected a string, got {_describe(content)}", source)
        messages.append({"role": role, "content": content})
    return messages


def _read_key(obj: dict[str, Any], source: str) -> str:
    value = obj.get("id")
    if value is None:
        return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:HASH_KEY_CHARS]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _sample_error(f"id: expected a string or an integer, got {_describe(value)}", source)
    key = str(value)
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise _sample_error(f"id: expected 1 to {MAX_KEY_CHARS} characters, got {len(key)}", source)
    return key


def _read_choices(value: Any, source: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(c, str | int | float) for c in value):
        raise _sample_error(f"choices: expected a non-empty list of strings, got {_describe(value)}", source)
    return [str(c) for c in value]


def _read_group(value: Any, source: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _sample_error(f"group: expected a string, got {_describe(value)}", source)
    if len(str(value)) > MAX_KEY_CHARS:
        raise _sample_error(f"group: longer than {MAX_KEY_CHARS} characters", source)
    return str(value)


def _read_sample(obj: Any, source: str) -> _RawSample:
    """A native, OpenAI Evals or Inspect sample, told apart by its keys."""
    if not isinstance(obj, dict):
        raise _sample_error(f"expected a JSON object (a sample), got {_describe(obj)}", source)
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _sample_error(f"metadata: expected a mapping, got {_describe(metadata)}", source)
    messages: list[dict[str, str]] | None = None
    if "input" in obj and "ideal" in obj:  # OpenAI Evals; other keys are kept as vars
        target = obj["ideal"]
        if not isinstance(target, str | list):
            raise _sample_error(
                f"ideal: expected a string or a list of strings, got {_describe(target)}", source
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
            raise _sample_error(
                f"vars: expected a mapping of names to values, got {_describe(variables)}", source
            )
        variables = dict(variables)
        if metadata is not None:
            if "metadata" in variables:
                raise _sample_error("vars.metadata clashes with the sample's metadata; rename one", source)
            variables["metadata"] = metadata
    if "input" in obj:
        value = obj["input"]
        if isinstance(value, str):
            variables = {"input": value, **variables}
        else:
            messages = _read_messages(value, source)
    clash = [name for name in RESERVED_VARS if name in variables]
    if clash:
        raise _sample_error(
            f"vars: {clash[0]!r} is reserved (the sample's own {clash[0]}); rename it", source
        )
    return _RawSample(
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
            raise _sample_error(message, source)


def _inline_samples(data: Any, container: Any, path: str) -> Iterator[_RawSample]:
    if data is None:
        return
    if not isinstance(data, list):
        raise SuiteError(
            f"samples: expected a list, got {_describe(data)}", path=path, line=_line(container, "samples")
        )
    for i, obj in enumerate(data):
        yield _read_sample(obj, f"{path}:{_line(data, i) or 0}")


def _file_samples(data: Any, container: Any, suite_path: Path) -> Iterator[_RawSample]:
    if data is None:
        return
    path = str(suite_path)
    line = _line(container, "samples_files")
    files = [data] if isinstance(data, str) else data
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise SuiteError(
            f"samples_files: expected a file name or a list of them, got {_describe(data)}",
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


def read_jsonl(file: Path) -> Iterator[_RawSample]:
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
                yield _read_sample(obj, f"{file}:{number}")
        except UnicodeDecodeError:
            raise SuiteError("not valid UTF-8 text", path=str(file), line=number + 1) from None


def _render(prompt: _Prompt | None, raw: _RawSample, suite_path: str) -> list[dict[str, str]]:
    if raw.messages is not None:
        return raw.messages
    if prompt is None:
        if "input" in raw.vars:
            return [{"role": "user", "content": str(raw.vars["input"])}]
        message = (
            f"sample {raw.key!r} ({raw.source}): the suite has no `prompt`, so this sample has nothing "
            "to render; "
            'add prompt: {user: "..."}'
        )
        raise SuiteError(message, path=suite_path)
    context = dict(raw.vars)
    context["target"] = raw.target
    context["choices"] = raw.choices or []
    context["letters"] = list(string.ascii_uppercase[: len(raw.choices or [])])
    messages = []
    for role, template in prompt.parts:
        if isinstance(template, str):
            messages.append({"role": role, "content": template})
            continue
        try:
            content = template.render(context)
        except UndefinedError as exc:
            undefined = _UNDEFINED_NAME.match(exc.message or "")
            if undefined:
                known = ", ".join(sorted(raw.vars)) or "none"
                message = (
                    f"sample {raw.key!r} ({raw.source}): the prompt uses the variable "
                    f"{undefined.group(1)!r}, which the sample does not define (its vars: {known})"
                )
            else:
                message = f"sample {raw.key!r} ({raw.source}): {exc.message}"
            raise SuiteError(message, path=suite_path) from None
        except SecurityError as exc:
            raise SuiteError(
                f"sample {raw.key!r} ({raw.source}): unsafe template: {exc}", path=suite_path
            ) from None
        except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            message = f"sample {raw.key!r} ({raw.source}): the prompt failed to render: {exc}"
            raise SuiteError(message, path=suite_path) from None
        messages.append({"role": role, "content": content})
    return messages


# --- the suite ---------------------------------------------------------------------------------


def _read_params(data: Any, container: Any, path: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SuiteError(
            f"params: expected a mapping, got {_describe(data)}", path=path, line=_line(container, "params")
        )
    _unknown_keys(data, PARAM_KEYS, "params", path, data)
    checks: dict[str, tuple[Any, str]] = {
        "temperature": (lambda v: _is_number(v) and 0 <= v <= 2, "a number from 0 to 2"),
        "max_tokens": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
        "seed": (_is_int, "an integer"),
        "top_p": (lambda v: _is_number(v) and 0 < v <= 1, "a number in (0, 1]"),
        "stop": (
            lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)),
            "a string or a list of strings",
        ),
        "reasoning_effort": (lambda v: isinstance(v, str) and v.strip() != "", "a string such as 'low'"),
    }
    for key, value in data.items():
        valid, expected = checks[key]
        if not valid(value):
            raise SuiteError(
                f"params.{key}: expected {expected}, got {_describe(value)}", path=path, line=_line(data, key)
            )
    return dict(data)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_judge(data: Any, container: Any, path: str) -> str | None:
    if data is None:
        return None
    line = _line(container, "judge")
    if not isinstance(data, dict):
        raise SuiteError(
            f"judge: expected a mapping {{model: provider:model}}, got {_describe(data)}",
            path=path,
            line=line,
        )
    _unknown_keys(data, ("model",), "judge", path, data)
    model = data.get("model")
    if not isinstance(model, str) or ":" not in model.strip(":"):
        raise SuiteError(
            f"judge.model: expected 'provider:model', got {model!r}", path=path, line=_line(data, "model")
        )
    return model


def load_suite(path: Path, *, default_judge: str | None = None) -> SuiteSpec:
    """Load and fully resolve one suite file; raises SuiteError (exit 2) naming the file and line.

    `default_judge` ([judge] model in monitor.toml) serves llm_judge graders when the suite names
    no judge; it then becomes part of the version, so scores from two judges are never mixed.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SuiteError("suite file not found", path=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite: {exc}", path=source) from None
    data = _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise SuiteError("expected a mapping with prompt, graders and samples", path=source, line=1)
    _unknown_keys(data, SUITE_KEYS, "", source, data)

    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        where = "name" if "name" in data else "the file name (the default suite name)"
        message = f"{where}: expected lower-case letters, digits, '-' or '_', got {name!r}"
        raise SuiteError(message, path=source, line=_line(data, "name"))
    description = data.get("description", "")
    if not isinstance(description, str):
        message = f"description: expected a string, got {_describe(description)}"
        raise SuiteError(message, path=source, line=_line(data, "description"))
    prompt = _read_prompt(data.get("prompt"), data, source)
    params = _read_params(data.get("params"), data, source)
    judge_model = _read_judge(data.get("judge"), data, source)
    if judge_model is None and _uses_judge(data.get("graders")):
        judge_model = default_judge
    if "graders" not in data:
        raise SuiteError("graders: required, e.g. graders: [{type: exact}]", path=source, line=1)
    graders = build_graders(data["graders"], source=source, judge_model=judge_model)
    threshold = data.get("pass_threshold", 1.0)
    if not _is_number(threshold) or not 0 <= threshold <= 1:
        message = f"pass_threshold: expected a number from 0 to 1, got {_describe(threshold)}"
        raise SuiteError(message, path=source, line=_line(data, "pass_threshold"))

    samples: list[SampleSpec] = []
    seen: dict[str, str] = {}
    raws = [
        *_inline_samples(data.get("samples"), data, source),
        *_file_samples(data.get("samples_files"), data, path),
    ]
    for raw in raws:
        if raw.key in seen:
            message = f"duplicate sample key {raw.key!r} (also at {seen[raw.key]})"
            if not raw.has_id:
                message += "; samples without an id are keyed by a hash of their content, so give them ids"
            raise _sample_error(message, raw.source)
        seen[raw.key] = raw.source
        sample = SampleSpec(
            key=raw.key,
            messages=_render(prompt, raw, source),
            target=raw.target,
            choices=raw.choices,
            group=raw.group,
            vars=raw.vars,
            source=raw.source,
        )
        for grader in graders:
            problem = grader.check_sample(sample)
            if problem:
                raise SuiteError(f"sample {sample.key!r} ({sample.source}): {problem}", path=source)
        samples.append(sample)
    if not samples:
        raise SuiteError("the suite has no samples: add `samples` or `samples_files`", path=source, line=1)

    grader_specs = describe(graders)
    header = {
        "graders": grader_specs,
        "params": params,
        "pass_threshold": threshold,
        "judge_model": judge_model,
    }
    digest = hashlib.sha256(canonical_json(header).encode())
    for s in samples:
        digest.update(b"\n")
        digest.update(canonical_json([s.key, s.messages, s.target, s.choices, s.group, s.vars]).encode())
    definition = {
        "description": description,
        "path": source,
        "prompt": prompt.raw if prompt else None,
        **header,
    }
    return SuiteSpec(
        name=name,
        description=description,
        path=path,
        version=digest.hexdigest()[:VERSION_CHARS],
        params=params,
        graders=graders,
        pass_threshold=float(threshold),
        samples=samples,
        judge_model=judge_model,
        definition=definition,
    )


def _uses_judge(graders: Any) -> bool:
    return isinstance(graders, list) and any(
        isinstance(g, dict) and g.get("type") == "llm_judge" for g in graders
    )


def _declared_name(path: Path) -> str:
    """A suite file's `name` (else its stem), read without loading its samples."""
    try:
        data = _parse_yaml(path.read_text(encoding="utf-8-sig"), str(path))
    except (SuiteError, OSError, UnicodeDecodeError):
        return path.stem
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else path.stem


def load_suites(
    directory: Path, names: Sequence[str] | None = None, *, default_judge: str | None = None
) -> list[SuiteSpec]:
    """Every suite in `directory` (*.yaml, *.yml), or the named ones in the order given."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SuiteError("suites directory not found", path=str(directory))
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not names:
        specs = [load_suite(p, default_judge=default_judge) for p in files]
        by_name: dict[str, Path] = {}
        for spec in specs:
            if spec.name in by_name:
                message = (
                    f"two suites are named {spec.name!r}: {by_name[spec.name].name} and {spec.path.name}"
                )
                raise SuiteError(message, path=str(directory))
            by_name[spec.name] = spec.path
        return specs
    declared = {p: _declared_name(p) for p in files}
    chosen: list[SuiteSpec] = []
    for wanted in dict.fromkeys(names):
        candidate = Path(wanted)
        if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
            chosen.append(load_suite(candidate, default_judge=default_judge))
            continue
        matches = [p for p, n in declared.items() if n == wanted] or [p for p in files if p.stem == wanted]
        if not matches:
            available = sorted(set(declared.values()))
            close = difflib.get_close_matches(wanted, available, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listing = ", ".join(available) or "none"
            raise SuiteError(f"unknown suite {wanted!r}{hint} (available in {directory}: {listing})")
        if len(matches) > 1:
            files_named = ", ".join(p.name for p in matches)
            raise SuiteError(f"two suites are named {wanted!r}: {files_named}", path=str(directory))
        chosen.append(load_suite(matches[0], default_judge=default_judge))
    return chosen


def register_suite(session: Session, spec: SuiteSpec) -> models.Suite:
    """The Suite row for this version, created with its Sample rows (in bulk) the first time."""
    query = select(models.Suite).where(models.Suite.name == spec.name, models.Suite.version == spec.version)
    existing = session.scalar(query)
    if existing is not None:
        return existing
    suite = models.Suite(
        name=spec.name,
        version=spec.version,
        description=spec.description,
        sample_count=len(spec.samples),
        definition=spec.definition,
    )
    try:
        with session.begin_nested():
            session.add(suite)
            session.flush()
            rows = [
                {
                    "suite_id": suite.id,
                    "key": s.key,
                    "position": i,
                    "group": s.group,
                    "messages": s.messages,
                    "target": s.target,
                    "choices": s.choices,
                }
                for i, s in enumerate(spec.samples)
            ]
            session.execute(insert(models.Sample), rows)
    except IntegrityError:
        existing = session.scalar(query)  # another process registered the same version first
        if existing is None:
            raise
        return existing
    return suite
