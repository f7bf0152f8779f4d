"""Content hashes: a suite's version and an unnamed sample's key, from canonical JSON of what they contain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from monitor.evals.spec import SampleSpec

VERSION_CHARS = 16
HASH_KEY_CHARS = 16
BATCH = 256
"""Samples encoded in one call by SuiteVersion: one encoder call per sample cost a third of `check`."""
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str, check_circular=False
)
"""One encoder for every hash (json.dumps with these options would build a new one per call). Nothing it
encodes can hold itself (JSON cannot, and the suite reader refuses recursive YAML), so it skips the
circular-reference bookkeeping, a sixth of its time; the text is the same."""
_MARK = "\x00suite-version\x00"
_SEPARATOR = "," + _CANONICAL.encode(_MARK) + ","
"""What stands between two samples' texts in a batch; no text holds it unless a sample holds _MARK."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same content always gives the same text (and hash)."""
    return _CANONICAL.encode(value)


def content_key(obj: Any) -> str:
    """The key of a sample without an id: a hash of its content."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:HASH_KEY_CHARS]


def _texts(batch: list[list[Any]]) -> list[str]:
    """Each item's canonical JSON, from one encoder call over the batch with _MARK between items
    (one call per item when a sample itself holds _MARK, so the split would be ambiguous)."""
    marked: list[Any] = [_MARK] * (2 * len(batch) - 1)
    marked[::2] = batch
    text = _CANONICAL.encode(marked)
    if text.count(_SEPARATOR) == len(batch) - 1:
        return text[1:-1].split(_SEPARATOR)
    return [_CANONICAL.encode(item) for item in batch]


class SuiteVersion:
    """A suite version computed as its samples stream by (`add` each in order, then `hexdigest`).

    The hash is sha256 of the header's canonical JSON, then for each sample a newline and the canonical
    JSON of its parts; the parts are encoded BATCH samples at a time, which gives the same bytes.
    """

    def __init__(self, header: dict[str, Any]) -> None:
        self._digest = hashlib.sha256(canonical_json(header).encode())
        self._pending: list[list[Any]] = []

    def add(self, s: SampleSpec) -> None:
        """Hash one more sample: its messages with any image bytes, target, tools and output format."""
        parts: list[Any] = [s.key, s.messages, s.target, s.choices, s.group, s.vars]
        if s.has_request:
            parts.append(s.request_fields())  # only then, so plain suites keep their versions
        self._pending.append(parts)
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._digest.update("".join("\n" + text for text in _texts(self._pending)).encode())
            self._pending = []

    def hexdigest(self) -> str:
        self._flush()
        return self._digest.hexdigest()[:VERSION_CHARS]
