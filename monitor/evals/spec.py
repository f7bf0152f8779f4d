"""One resolved sample: what every grader and the judge read (kept apart from suites, below the graders)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SampleSpec:
    """One sample, resolved: the exact messages sent, the target, and where it came from (`file:line`)."""

    key: str
    messages: list[dict[str, str]]
    target: Any
    choices: list[str] | None
    group: str | None
    vars: dict[str, Any]
    source: str
