"""Provider adapters behind one interface; `get_provider` builds one (the SDKs load only then)."""

from monitor.providers.base import (
    AuthError,
    BadRequest,
    BadResponse,
    ChatRequest,
    Completion,
    ConnectionFailed,
    ModelInfo,
    ModelNotFound,
    Overloaded,
    Provider,
    ProviderError,
    ProviderTimeout,
    QuotaExhausted,
    RateLimited,
)
from monitor.providers.registry import get_provider, provider_api_key

__all__ = [
    "AuthError",
    "BadRequest",
    "BadResponse",
    "ChatRequest",
    "Completion",
    "ConnectionFailed",
    "ModelInfo",
    "ModelNotFound",
    "Overloaded",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "QuotaExhausted",
    "RateLimited",
    "get_provider",
    "provider_api_key",
]
