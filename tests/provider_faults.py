"""The simulator's chat faults and the typed error every adapter must turn each into."""

from __future__ import annotations

from monitor.providers import (
    BadResponse,
    ConnectionFailed,
    Overloaded,
    ProviderError,
    ProviderTimeout,
    RateLimited,
)

CHAT_FAULTS: list[tuple[str, type[ProviderError]]] = [
    ("rate_limit", RateLimited),
    ("server_error", Overloaded),
    ("overloaded", Overloaded),
    ("timeout", ProviderTimeout),
    ("reset", ConnectionFailed),
    ("malformed_json", BadResponse),
    ("truncated", BadResponse),
]
