"""Whether a list is believed: a sharp drop is suspect until repeated; a widened filter brings no release.

A list that lacks more than half of a provider's known models *and* is less than half as long
(it shrank, rather than one set of models replacing another, as when a local server restarts with
another model) is *suspect*: it is recorded (a failed poll whose error says why) and changes
nothing, since an empty or truncated answer that claims success would otherwise mark every model
removed. The same list (same fingerprint) on
CONFIRM_POLLS consecutive polls that got a list confirms it: the missing models are removed then.
Models that only a changed include/exclude filter brings in are "now watched": stored, no event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.core.config import ProviderConfig
    from monitor.pipeline.poll.diff import StoredModel

CONFIRM_POLLS = 3
"""Consecutive identical suspect lists that confirm a sharp drop (the third one removes)."""


def fingerprint(listed_ids: Iterable[str]) -> str:
    """A short digest of the ids a provider listed (order and repeats do not matter)."""
    return hashlib.sha256("\n".join(sorted(set(listed_ids))).encode()).hexdigest()[:16]


def listing_record(cfg: ProviderConfig, listed_ids: set[str], *, suspect: bool) -> dict[str, Any]:
    """What `provider_polls.listing` keeps of one list."""
    return {
        "listed_total": len(listed_ids),
        "fingerprint": fingerprint(listed_ids),
        "include": list(cfg.include),
        "exclude": list(cfg.exclude),
        "suspect": suspect,
    }


def suspect_reason(rows: Sequence[StoredModel], listed_ids: set[str]) -> str | None:
    """Why this list is not believed (it shrank: more than half the known models absent and fewer
    than half as many listed), or None."""
    known = [row for row in rows if row.removed_at is None]
    absent = [row for row in known if row.model_id not in listed_ids]
    if not known or 2 * len(absent) <= len(known) or 2 * len(listed_ids) >= len(known):
        return None
    return (
        f"suspect list: {len(absent)} of {len(known)} known models missing "
        f"({len(listed_ids)} listed, fingerprint {fingerprint(listed_ids)}); nothing changed "
        f"unless the same list comes back on {CONFIRM_POLLS} consecutive polls"
    )


def confirms(previous: Sequence[dict[str, Any]], listed_ids: set[str]) -> bool:
    """True when the CONFIRM_POLLS - 1 lists before this one (newest first) were this same suspect list."""
    wanted = fingerprint(listed_ids)
    recent = list(previous[: CONFIRM_POLLS - 1])
    return len(recent) == CONFIRM_POLLS - 1 and all(
        p.get("suspect") and p.get("fingerprint") == wanted for p in recent
    )


def now_watched(cfg: ProviderConfig, unknown_ids: Iterable[str], applied: dict[str, Any] | None) -> set[str]:
    """The ids among `unknown_ids` kept only because include/exclude changed since the last applied list.

    An id the old filter excluded, or one the new include names where the old filter left the
    decision to the provider's default rule, may well have been listed before: it is no release.
    """
    if applied is None:
        return set()
    before = cfg.model_copy(
        update={"include": applied.get("include", []), "exclude": applied.get("exclude", [])}
    )
    if (before.include, before.exclude) == (cfg.include, cfg.exclude):
        return set()
    watched = set()
    for model_id in unknown_ids:
        old = before.keeps(model_id)
        if old is False or (old is None and cfg.keeps(model_id) is True):
            watched.add(model_id)
    return watched
