"""Untrusted text made safe to show in a report: bounded, with control and direction characters visible."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

RUN_TEXT_LIMIT = 2_000
FLIP_TEXT_LIMIT = 400
ERROR_TEXT_LIMIT = 300

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Clip:
    """Untrusted text made safe to show: bounded, control and direction characters made visible."""

    text: str
    total: int
    shown: int
    truncated: bool


def clip(value: Any, limit: int) -> Clip:
    """At most `limit` characters of `value`; control and bidi-override characters shown as escapes.

    HTML escaping is left to the template's autoescape; this bounds the size and keeps invisible
    characters (right-to-left overrides, NUL, bell...) from disguising what a model answered.
    """
    text = value if isinstance(value, str) else display_value(value)
    head = text[:limit]
    head = _SURROGATE.sub("\ufffd", head)
    head = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", head)
    head = _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", head)
    return Clip(head, len(text), min(limit, len(text)), len(text) > limit)


def display_value(value: Any) -> str:
    """A target, choice list or grade value as readable text (JSON for structures)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _part_text(part: Any) -> str:
    """A content part as text: its text, or `[image]` (a data URL is not worth printing)."""
    if isinstance(part, dict):
        return "[image]" if part.get("type") == "image_url" else str(part.get("text", ""))
    return str(part)


def prompt_text(messages: list[Any] | None) -> str:
    """The messages sent, one per paragraph, each prefixed with its role."""
    lines = []
    for message in messages or []:
        if not isinstance(message, dict):
            lines.append(display_value(message))
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(_part_text(p) for p in content)
        text = display_value(content) if content else ""
        calls = [
            f"→ {c['function']['name']}({c['function']['arguments']})"
            for c in message.get("tool_calls") or ()
            if isinstance(c, dict) and isinstance(c.get("function"), dict)
        ]
        lines.append(f"{message.get('role', '?')}: " + "\n".join(part for part in (text, *calls) if part))
    return "\n\n".join(lines)
