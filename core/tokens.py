"""OAuth token sets and where clients keep them: the clients never persist anything themselves.

The engine gives each client a `TokenStore` backed by the encrypted `connection` row; tests give it an
in-memory one. A client asks its store on start and saves every token it mints, before using it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Everything an OAuth client needs to resume, including where the tokens are valid."""

    access_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)
    api_domain: str | None = None  # Zoho: from the token response, never guessed
    accounts_server: str | None = None  # Zoho: from the consent redirect
    dc: str | None = None  # Zoho: the data-centre code (us, eu, in, au, jp, ca, cn, sa, uk)

    def with_access(self, access_token: str, expires_at: datetime) -> TokenSet:
        """A copy carrying a newly minted access token."""
        return replace(self, access_token=access_token, expires_at=expires_at)


class TokenStore(Protocol):
    """Persistence for one connection's tokens."""

    async def load(self) -> TokenSet | None:
        """The stored tokens, or None before the first authorisation."""
        ...

    async def save(self, tokens: TokenSet) -> None:
        """Persist `tokens` (encrypted at rest by the implementation)."""
        ...


class MemoryTokenStore:
    """A TokenStore in memory, for tests and one-shot CLI calls."""

    def __init__(self, tokens: TokenSet | None = None) -> None:
        self.tokens = tokens
        self.saves = 0

    async def load(self) -> TokenSet | None:
        return self.tokens

    async def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.saves += 1
