"""Normalization used to compare names, codes and tax ids across the two systems."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_name(value: str | None) -> str:
    """Casefold, drop accents, punctuation and dashes, collapse spaces: "Tax - Leeds" is "tax leeds"."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped.casefold()).split())


def normalize_code(value: str | None) -> str:
    """Compare codes and tax ids without case, spaces or separators: "gb-123 456" → "GB123456"."""
    if not value:
        return ""
    return "".join(ch for ch in value.upper() if ch.isalnum())
