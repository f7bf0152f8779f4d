"""Content hashes: a suite's version and an unnamed sample's key, from canonical JSON of what they contain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from monitor.evals.spec import SampleSpec

VERSION_CHARS = 16
HASH_KEY_CHARS = 16


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace: the same content always gives the same text (and hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_key(obj: Any) -> str:
    """The key of a sample without an id: a hash of its content."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:HASH_KEY_CHARS]


def suite_version(header: dict[str, Any], samples: Sequence[SampleSpec]) -> str:
    """The hash of all that decides a suite's scores: `header` (graders, params...) and every sample
    (its messages with any image bytes, target, tools and output format)."""
    digest = hashlib.sha256(canonical_json(header).encode())
    for s in samples:
        digest.update(b"\n")
        parts: list[Any] = [s.key, s.messages, s.target, s.choices, s.group, s.vars]
        if s.has_request:
            parts.append(s.request_fields())  # only then, so plain suites keep their versions
        digest.update(canonical_json(parts).encode())
    return digest.hexdigest()[:VERSION_CHARS]
