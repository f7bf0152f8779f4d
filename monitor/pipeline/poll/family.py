"""Model families by id: a retiring model's newer siblings at the same provider, the default replacements.

A family is the id without its date, snapshot and stage suffixes, with each version number made a
placeholder: gpt-4.1-mini-2025-04-14 and gpt-5-mini are both `gpt-#-mini`, claude-sonnet-4-20250514
and claude-sonnet-4-5 both `claude-sonnet-#`, gemini-2.5-flash and gemini-3-flash-preview both
`gemini-#-flash`. Newer means created later by the provider's own `created` (first seen when the
provider gives none).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from monitor.store.tables import Model

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_FAMILY_CANDIDATES = 3
# Trailing parts that name a snapshot or a release stage, not a different model.
_SUFFIX = re.compile(
    r"[-_@](latest|preview|exp|experimental|\d{4}-\d{2}-\d{2}|\d{6,8}|\d{2}-\d{4}|\d{2}-\d{2}|\d{3,4}|v\d+(\.\d+)*)$"
)
_VERSION = re.compile(r"\d+(?:[._-]\d+)*")


def family(model_id: str) -> str:
    """The model's family key (see the module docstring)."""
    name = model_id.lower()
    while True:
        shorter = _SUFFIX.sub("", name)
        if shorter == name:
            break
        name = shorter
    return _VERSION.sub("#", name)


def _released(row: Model) -> datetime:
    return row.created_at or row.first_seen


def newer_in_family(
    session: Session, provider: str, model_id: str, *, limit: int = MAX_FAMILY_CANDIDATES
) -> list[str]:
    """The provider's listed models of the same family released after `model_id`, newest first."""
    rows = list(session.scalars(select(Model).where(Model.provider == provider, Model.removed_at.is_(None))))
    target = next((r for r in rows if r.model_id == model_id), None)
    key = family(model_id)
    since = _released(target) if target is not None else None
    siblings = [
        r
        for r in rows
        if r.model_id != model_id and family(r.model_id) == key and (since is None or _released(r) > since)
    ]
    siblings.sort(key=lambda r: (_released(r), r.model_id), reverse=True)
    return [r.model_id for r in siblings[:limit]]
