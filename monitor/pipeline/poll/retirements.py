"""The retirement date a provider's own model list carries, read from the listing entry the poll keeps.

OpenAI `shutdown_date` ("YYYY-MM-DD"), Anthropic `retires_at` (RFC 3339), OpenRouter
`expiration_date` (a date, or an ISO datetime), Mistral `deprecation` (ISO datetime). Groq says
only `active: false`, no date: such a model is taken as retiring now, on the day a poll first saw
it inactive (stored in `models.retires_at`; without a stored date, the row's `last_seen`). Gemini's
list carries no deprecation field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

DATE_FIELDS = ("shutdown_date", "retires_at", "expiration_date", "deprecation")
"""The listing fields that carry a retirement date, in the order they are read."""
REPLACEMENT_FIELDS = ("deprecation_replacement_model",)
"""The listing fields that name a retiring model's replacement (Mistral's)."""


def parse_when(value: Any) -> dt.datetime | None:
    """A date, an ISO datetime (Z allowed) or a Unix time -> aware UTC datetime; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def listed_retirement(raw: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When the listing entry says the model retires; `now` for an entry that is inactive (Groq)."""
    for name in DATE_FIELDS:
        when = parse_when(raw.get(name))
        if when is not None:
            return when
    if raw.get("active") is False:
        return now
    return None


def listed_replacements(raw: dict[str, Any]) -> tuple[str, ...]:
    """The model ids the listing entry names as the retiring model's replacement (none: empty)."""
    found = (raw.get(name) for name in REPLACEMENT_FIELDS)
    return tuple(value.strip() for value in found if isinstance(value, str) and value.strip())


def provider_date(
    retires_at: dt.datetime | None, raw: dict[str, Any], last_seen: dt.datetime
) -> dt.date | None:
    """The listing's retirement day for a stored row: the stored date, else read from its raw entry.

    Rows recorded before `retires_at` existed still carry the fields in `raw`.
    """
    when = retires_at or listed_retirement(raw or {}, last_seen)
    return when.astimezone(dt.UTC).date() if when is not None else None
