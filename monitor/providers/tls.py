"""One TLS context per process, shared by every SDK client: loading the CA store costs ~50 ms CPU a client."""

from __future__ import annotations

import functools
import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The context the SDKs' httpx would build for themselves (same CA store, SSL_CERT_* honoured)."""
    import httpcore2

    return httpcore2.default_ssl_context()
