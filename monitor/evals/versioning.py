"""Content hashes: a suite's version and an unnamed sample's key, from canonical JSON of what they contain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from monitor.evals.spec import SampleSpec

VERSION_CHARS = 16
HASH_KEY_CHARS = 16
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
"""One encoder for every hash: json.dumps with these options would build a new one per call."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same content always gives the same text (and hash)."""
    return _CANONICAL.encode(value)


def content_key(obj: Any) -> str:
    """The key of a sample without an id: a hash of its content."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:HASH_KEY_CHARS]


class SuiteVersion:
    """A suite version computed as its samples stream by (`add` each in order, then `hexdigest`)."""

    def __init__(self, header: dict[str, Any]) -> None:
        self._digest = hashlib.sha256(canonical_json(header).encode())

    def add(self, s: SampleSpec) -> None:
        """Hash one more sample: its messages with any image bytes, target, tools and output format."""
        parts: list[Any] = [s.key, s.messages, s.target, s.choices, s.group, s.vars]
        if s.request is not None:
            parts.append(s.request)  # only then, so plain suites keep their versions
        self._digest.update(b"\n" + _CANONICAL.encode(parts).encode())

    def hexdigest(self) -> str:
        return self._digest.hexdigest()[:VERSION_CHARS]
