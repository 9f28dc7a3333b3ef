"""A `TokenStore` backed by one encrypted `connection` row: what the OAuth clients use in production.

Tokens and the client secret go through the vault before they reach the database, so the `*_enc` columns
only ever hold ciphertext. The non-secret facts learnt during authorisation (DC, accounts server, API domain)
are kept in plain columns next to them, with the state the TUI shows and the time of the last refresh. The
row is reached through `ConnectionRepository`, like every other connection row.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.connections import ConnectionNotFound, ConnectionRepository
from zbsn.core.db.transient import retried
from zbsn.core.domain import ConnectionState
from zbsn.core.tokens import TokenSet


class SecretCipher(Protocol):
    """The part of the vault this module needs."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...


ConnectionNotFoundError = ConnectionNotFound
"""The connection row this store points at does not exist (the repository's own error)."""


class DbTokenStore:
    """Load and save one connection's tokens, encrypted at rest in its `connection` row."""

    def __init__(
        self, db_engine: sa.Engine, vault: SecretCipher, connection_id: int, clock: Clock | None = None
    ) -> None:
        self.db_engine = db_engine
        self.vault = vault
        self.connection_id = connection_id
        self.clock: Clock = clock or SystemClock()
        self._rows = ConnectionRepository(db_engine)

    async def load(self) -> TokenSet | None:
        """The stored tokens, or None before the first authorisation."""
        return await asyncio.to_thread(self.load_sync)

    async def save(self, tokens: TokenSet) -> None:
        """Persist `tokens`; a new access token also records the refresh time and marks the row connected."""
        await asyncio.to_thread(self.save_sync, tokens)

    @retried
    def load_sync(self) -> TokenSet | None:
        """`load` for callers outside an event loop."""
        row = self._rows.get(self.connection_id)
        if row.access_token_enc is None and row.refresh_token_enc is None:
            return None
        return TokenSet(
            access_token=self._decrypt(row.access_token_enc),
            expires_at=row.access_token_expires_at,
            refresh_token=self._decrypt(row.refresh_token_enc),
            api_domain=row.api_domain,
            accounts_server=row.accounts_server,
            dc=row.dc,
        )

    @retried
    def save_sync(self, tokens: TokenSet) -> None:
        """`save` for callers outside an event loop."""
        now = self.clock.now()
        with self._rows.edit(self.connection_id) as row:
            if tokens.access_token is not None and tokens.access_token != self._decrypt(row.access_token_enc):
                row.last_refresh_at = now
            row.access_token_enc = self._encrypt(tokens.access_token)
            row.access_token_expires_at = tokens.expires_at
            if tokens.refresh_token is not None or tokens.access_token is None:
                row.refresh_token_enc = self._encrypt(tokens.refresh_token)
            row.api_domain = tokens.api_domain or row.api_domain
            row.accounts_server = tokens.accounts_server or row.accounts_server
            row.dc = tokens.dc or row.dc
            if tokens.access_token is not None or tokens.refresh_token is not None:
                row.state = ConnectionState.CONNECTED
                row.last_error = None
            row.updated_at = now

    @retried
    def client_secret(self) -> str | None:
        """The decrypted OAuth client secret of this connection."""
        return self._decrypt(self._rows.get(self.connection_id).client_secret_enc)

    def set_client_secret(self, client_id: str, client_secret: str) -> None:
        """Store the OAuth client id and (encrypted) secret."""
        with self._rows.edit(self.connection_id) as row:
            row.client_id = client_id
            row.client_secret_enc = self._encrypt(client_secret)
            row.updated_at = self.clock.now()

    @retried
    def set_state(self, state: ConnectionState, error: str | None = None) -> None:
        """Record the connection state (e.g. `reauth` after a refused refresh) and the reason."""
        with self._rows.edit(self.connection_id) as row:
            row.state = state
            row.last_error = error
            row.updated_at = self.clock.now()

    def clear_tokens(self) -> None:
        """Forget both tokens (re-authorisation starts from scratch)."""
        self.save_sync(TokenSet())

    @retried
    def expires_at(self) -> datetime | None:
        """When the stored access token expires."""
        return self._rows.get(self.connection_id).access_token_expires_at

    def _encrypt(self, value: str | None) -> str | None:
        return None if value is None else self.vault.encrypt(value)

    def _decrypt(self, value: str | None) -> str | None:
        return None if value is None else self.vault.decrypt(value)
