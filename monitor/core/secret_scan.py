"""Find literal API keys written into monitor.toml (tables, lists, URL queries), shown only by prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Shapes of real provider keys, most specific first; group 1 is the public prefix a message may show.
KEY_PATTERNS = [
    re.compile(r"(?<![A-Za-z0-9])(sk-ant-)[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?<![A-Za-z0-9])(sk-)[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?<![A-Za-z0-9])(AIza)[0-9A-Za-z_\-]{30,}"),
    re.compile(r"(?<![A-Za-z0-9])((?:gsk|xai|pplx|r8)_)[A-Za-z0-9]{20,}"),
]
# Keys (in a table or a URL's query) whose value is a secret whatever it looks like.
SECRET_NAMES = frozenset(
    {"api_key", "apikey", "api-key", "password", "token", "access_token", "secret", "key"}
)


@dataclass(frozen=True)
class Finding:
    """One literal secret: the table holding it, where in it (never the secret), and the text to locate."""

    table: str
    where: str
    needle: str | None

    @property
    def is_password(self) -> bool:
        return "password" in self.where


def key_prefix(text: str) -> str | None:
    """`'sk-…'` when `text` contains something shaped like a provider key, else None (never more)."""
    for pattern in KEY_PATTERNS:
        match = pattern.search(text)
        if match:
            return f"{match.group(1)}…"
    return None


def find_secrets(raw: dict[str, Any]) -> list[Finding]:
    """Every literal secret in a parsed TOML document: a key-shaped string anywhere, a value under a
    secret name (`api_key = …`), or a secret-named or key-shaped parameter in a URL's query string."""
    return list(_scan_table(raw, ""))


def _scan_table(node: dict[str, Any], table: str) -> list[Finding]:
    found: list[Finding] = []
    for key, value in node.items():
        if isinstance(value, dict):
            found += _scan_table(value, f"{table}.{key}" if table else key)
        elif key in SECRET_NAMES:
            text = value if isinstance(value, str) else None
            shown = key_prefix(text) if text else None
            found.append(Finding(table or key, f"{key} = '{shown}'" if shown else key, text))
        else:
            found += _scan_value(value, table or key, key)
    return found


def _scan_value(value: Any, table: str, where: str) -> list[Finding]:
    if isinstance(value, dict):
        return _scan_table(value, f"{table}.{where}")
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in _scan_value(item, table, f"{where}[{i}]")]
    if not isinstance(value, str):
        return []
    shown = key_prefix(value)
    if shown is not None:
        match = next(m for p in KEY_PATTERNS if (m := p.search(value)))
        return [Finding(table, f"{where} = '{shown}'", match.group(0))]
    return [
        Finding(table, f"{where}, query parameter {name!r}", secret)
        for name, secret in _query(value)
        if name.lower() in SECRET_NAMES and secret
    ]


def _query(text: str) -> list[tuple[str, str]]:
    """The query parameters of `text` when it is a URL with one, else []."""
    if "?" not in text or "://" not in text:
        return []
    try:
        return parse_qsl(urlsplit(text).query, keep_blank_values=True)
    except ValueError:
        return []
