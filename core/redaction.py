"""One redaction function for everything zbsn writes out: logs, error messages, audit notes.

`redact(text)` removes OAuth tokens (Zoho `1000.<hex>.<hex>`, `Zoho-oauthtoken …`, `Bearer …`),
`Authorization` header values, credential fields in query strings, form bodies, JSON and Python reprs
(`access_token`, `refresh_token`, `client_secret`, `code`, `password`), passwords in URLs, and every
value handed to `register_secret` at runtime (the vault registers each secret it decrypts).
"""

from __future__ import annotations

import re
import threading

MASK = "***"
# Values shorter than this are too common ("1", "true") to scrub from every line safely.
MIN_REGISTERED_LENGTH = 4

_SENSITIVE_KEYS = r"access_token|refresh_token|id_token|client_secret|code|password|authorization"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "access_token": "…"  /  'password': '…'  (JSON, dict reprs); numbers such as Zoho's "code": 0 stay.
    (
        re.compile(
            rf"""(?P<key>(?P<kq>["'])(?:{_SENSITIVE_KEYS})(?P=kq)\s*:\s*)(?P<q>["'])(?:\\.|(?!(?P=q)).)*(?P=q)""",
            re.IGNORECASE,
        ),
        rf"\g<key>\g<q>{MASK}\g<q>",
    ),
    # access_token=…&code=…  (query strings, form bodies, key=value log fields)
    (
        re.compile(
            rf"""(?P<key>(?<![\w-])(?:{_SENSITIVE_KEYS})=)(?:"[^"]*"|'[^']*'|[^&\s"'#,;]+)""", re.IGNORECASE
        ),
        rf"\g<key>{MASK}",
    ),
    # Authorization: <anything up to the end of the line>  (raw HTTP headers)
    (re.compile(r"(?P<key>\bauthorization\s*:\s*)(?![\"'\s])[^\r\n]+", re.IGNORECASE), rf"\g<key>{MASK}"),
    # Zoho-oauthtoken <token> and Bearer <token>, wherever they appear
    (
        re.compile(r"(?P<key>\b(?:Zoho-oauthtoken|Bearer)\s+)(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE),
        rf"\g<key>{MASK}",
    ),
    # Zoho access/refresh tokens and grant codes on their own: 1000.<hex>.<hex>
    (re.compile(r"\b1000\.[0-9a-fA-F]{8,}\.[0-9a-fA-F]{8,}\b"), MASK),
    # scheme://user:password@host
    (re.compile(r"(?P<key>://[^:/@\s]+:)[^@/\s]+(?=@)"), rf"\g<key>{MASK}"),
)

_lock = threading.Lock()
_registered: set[str] = set()
_registered_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Scrub `value` from everything redacted from now on (no-op for None and very short values)."""
    global _registered_pattern
    if not value or len(value) < MIN_REGISTERED_LENGTH:
        return
    with _lock:
        if value in _registered:
            return
        _registered.add(value)
        alternatives = sorted(_registered, key=len, reverse=True)
        _registered_pattern = re.compile("|".join(re.escape(item) for item in alternatives))


def forget_registered_secrets() -> None:
    """Drop every runtime-registered secret (tests use this to isolate themselves)."""
    global _registered_pattern
    with _lock:
        _registered.clear()
        _registered_pattern = None


def redact(text: str) -> str:
    """`text` with every known kind of credential replaced by `***`."""
    registered = _registered_pattern
    if registered is not None:
        text = registered.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
