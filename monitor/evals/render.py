"""A suite's prompt: its message templates compiled (sandboxed Jinja) and rendered for each sample."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from monitor.core.errors import SuiteError
from monitor.evals.samples import ROLES, RawSample
from monitor.evals.yaml_lines import describe_value, line_of, reject_unknown_keys

PROMPT_KEYS = ("system", "user", "messages")
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_LETTERS = list(string.ascii_uppercase)
"""The `letters` a prompt may show next to its choices (a fresh slice for each sample)."""


@dataclass(frozen=True)
class Substitution:
    """A template that only prints variables between text (`Capital of {{ country }}?`), filled in
    without Jinja's per-render context; any other case (a variable the sample lacks) goes to Jinja."""

    pieces: tuple[tuple[bool, str], ...]  # (is a variable name, text or name), in order
    template: Template

    def fill(self, context: dict[str, Any]) -> str | None:
        """The rendered text, exactly as Jinja prints it (str() of each value); None when a name is
        missing from `context`, so Jinja renders it and raises its own error."""
        out = []
        for is_name, text in self.pieces:
            if not is_name:
                out.append(text)
            elif text in context:
                out.append(str(context[text]))
            else:
                return None
        return "".join(out)


@dataclass(frozen=True)
class Prompt:
    """The suite's message templates, compiled once."""

    parts: list[tuple[str, Any]]  # (role, a Substitution, a compiled template, or the text without Jinja)
    raw: list[dict[str, Any]]


def _compile(text: Any, where: str, path: str, line: int | None) -> Any:
    if not isinstance(text, str):
        hint = ' (quote Jinja templates in YAML: "{{ question }}")' if isinstance(text, dict) else ""
        raise SuiteError(
            f"{where}: expected a string template, got {describe_value(text)}{hint}", path=path, line=line
        )
    if not any(marker in text for marker in ("{{", "{%", "{#")):
        return text
    try:
        template = _ENV.from_string(text)
    except TemplateSyntaxError as exc:
        at = (line or 1) + (exc.lineno or 1) - 1
        raise SuiteError(f"{where}: template syntax error: {exc.message}", path=path, line=at) from None
    pieces = _substitution(text)
    return template if pieces is None else Substitution(pieces, template)


def _substitution(text: str) -> tuple[tuple[bool, str], ...] | None:
    """The template's text and variable names when it holds nothing else (no filter, attribute,
    expression or statement), else None."""
    pieces: list[tuple[bool, str]] = []
    for output in _ENV.parse(text).body:
        if not isinstance(output, nodes.Output):
            return None
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                pieces.append((False, node.data))
            elif isinstance(node, nodes.Name) and node.ctx == "load":
                pieces.append((True, node.name))
            else:
                return None
    return tuple(pieces)


def read_prompt(data: Any, container: Any, path: str) -> Prompt | None:
    """The suite's `prompt` (`system` + `user`, or `messages`), compiled; None when the suite has none."""
    if data is None:
        return None
    line = line_of(container, "prompt")
    if isinstance(data, str):
        raise SuiteError(
            "prompt: expected a mapping with `user` (and `system`) or `messages`", path=path, line=line
        )
    if not isinstance(data, dict):
        raise SuiteError(f"prompt: expected a mapping, got {describe_value(data)}", path=path, line=line)
    reject_unknown_keys(data, PROMPT_KEYS, "prompt", path, data)
    raw: list[dict[str, Any]] = []
    lines: list[int | None] = []
    wheres: list[str] = []
    if "messages" in data:
        if "system" in data or "user" in data:
            message = "prompt: use either `messages` or `system` + `user`, not both"
            raise SuiteError(message, path=path, line=line_of(data, "messages"))
        messages = data["messages"]
        if not isinstance(messages, list) or not messages:
            message = "prompt.messages: expected a non-empty list of {role, content}"
            raise SuiteError(message, path=path, line=line_of(data, "messages"))
        for i, item in enumerate(messages):
            where = f"prompt.messages[{i}]"
            at = line_of(messages, i)
            if not isinstance(item, dict):
                raise SuiteError(f"{where}: expected a mapping {{role, content}}", path=path, line=at)
            reject_unknown_keys(item, ("role", "content"), where, path, item)
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
                lines.append(line_of(data, role))
                wheres.append(f"prompt.{role}")
    parts = [
        (item["role"], _compile(item["content"], where, path, at))
        for item, where, at in zip(raw, wheres, lines, strict=True)
    ]
    return Prompt(parts, raw)


def render_messages(prompt: Prompt | None, raw: RawSample, suite_path: str) -> list[dict[str, str]]:
    """The exact messages sent for one sample: its own, or the prompt rendered with its vars."""
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
    choices = raw.choices or []
    context = {**raw.vars, "target": raw.target, "choices": choices, "letters": _LETTERS[: len(choices)]}
    messages = []
    for role, template in prompt.parts:
        if isinstance(template, str):
            messages.append({"role": role, "content": template})
            continue
        if isinstance(template, Substitution):
            filled = template.fill(context)
            if filled is not None:
                messages.append({"role": role, "content": filled})
                continue
            template = template.template
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
