"""The Zoho webhook signature.

INFERRED (zoho-ref §7): Zoho documents this scheme for Zoho Billing, whose webhook engine Books
shares, and Books' webhook API has the matching `secret` field, but Zoho has not documented it for Books.
The signed string is every query-string and form key/value pair, sorted by key and concatenated as
`keyvalue` with no separators (form values URL-decoded), followed by the raw body; the signature is the hex
HMAC-SHA256 of that string under the webhook secret, sent in `X-Zoho-Webhook-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Zoho-Webhook-Signature"


def signed_message(params: Iterable[tuple[str, str]], raw_body: bytes) -> bytes:
    """The bytes Zoho signs: sorted `keyvalue` pairs, then the raw body."""
    pairs = sorted(params, key=lambda pair: pair[0])
    return "".join(key + value for key, value in pairs).encode() + raw_body


def compute_signature(secret: str, params: Iterable[tuple[str, str]], raw_body: bytes) -> str:
    """The hex HMAC-SHA256 signature of a delivery."""
    return hmac.new(secret.encode(), signed_message(params, raw_body), hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, params: Iterable[tuple[str, str]], raw_body: bytes, signature: str | None
) -> bool:
    """True when `signature` matches (constant-time comparison); a missing signature never matches."""
    if not signature or not secret:
        return False
    expected = compute_signature(secret, params, raw_body)
    # bytes: compare_digest refuses str with non-ASCII characters, which a garbled header may carry
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace"))
