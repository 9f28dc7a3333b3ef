"""One TLS context for every HTTP client zbsn opens.

httpx builds a new `SSLContext` for each `AsyncClient`, loading certifi's CA bundle every time (about 20 ms
of CPU). A run opens a Zoho client, its OAuth client and a ServiceNow client, and the scheduler and webhook
receiver open more, so the context is built once (the same way httpx builds it, `SSL_CERT_FILE` and
`SSL_CERT_DIR` included) and shared: a client only reads it.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying client context every zbsn HTTP client uses."""
    return httpx.create_ssl_context()
