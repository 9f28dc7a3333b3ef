"""Token states for the badges and `zbsn status`: what the row says, corrected by what live auth objects know.

A connection row records its state (`connected`, `wait`, `reauth`, …) and when its access token expires; a
live Zoho token manager or ServiceNow auth object may know better (a refresh refused a second ago). The
status shown is the more serious of the two. `persist` writes what the live objects learnt to the rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from zbsn.core.clients import ClientFactory
from zbsn.core.clock import Clock
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db.models import Connection
from zbsn.core.domain import ConnectionKind, ConnectionState
from zbsn.core.redaction import redact
from zbsn.core.settings import Settings

TokenStateName = Literal["ok", "wait", "reauthorise", "not connected"]

_STORED_STATES: dict[str, TokenStateName] = {
    ConnectionState.CONNECTED: "ok",
    ConnectionState.WAIT: "wait",
    ConnectionState.REAUTH: "reauthorise",
}
_SEVERITY: tuple[TokenStateName, ...] = ("ok", "wait", "not connected", "reauthorise")


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """What the token badge shows: state and seconds until the access token expires."""

    system: Literal["zoho", "servicenow"]
    connection_id: int
    state: TokenStateName
    expires_in_s: float | None
    refresh_in_s: float | None
    message: str | None = None


def _worst(stored: TokenStateName, live: TokenStateName | None) -> TokenStateName:
    """The more serious of what the row says and what a live auth object knows."""
    if live is None:
        return stored
    if stored == "not connected" and live == "ok":
        return "ok"  # a live auth object that works beats a row not yet marked connected
    return max(stored, live, key=_SEVERITY.index)


class TokenStatuses:
    """Token states of one database's connections, and the record of a connection needing the operator."""

    def __init__(
        self, connections: ConnectionRepository, clients: ClientFactory, settings: Settings, clock: Clock
    ) -> None:
        self.connections = connections
        self.clients = clients
        self.settings = settings
        self.clock = clock

    def of(self, connection_id: int) -> TokenStatus:
        """State and time left for one connection, from its live auth object or else from the database."""
        return self._status(self.connections.get(connection_id))

    def of_all(self, connection_ids: Collection[int] | None = None) -> list[TokenStatus]:
        """The status of every connection (or of those in `connection_ids`), in creation order; one query."""
        return [
            self._status(row)
            for row in self.connections.list(order_by_id=True)
            if connection_ids is None or row.id in connection_ids
        ]

    def persist(self) -> None:
        """Write what live auth objects learnt (a refused refresh, a throttle) to their connection rows."""
        for connection_id, manager in list(self.clients.zoho_managers.items()):
            if manager.state == "reauthorise":
                self.mark_reauthorise(connection_id, manager.reason or "Zoho refused the refresh token")
        for connection_id, auth in list(self.clients.servicenow_auths.items()):
            if auth.state == "reauthorise":
                self.mark_reauthorise(connection_id, "ServiceNow refused the client credentials")

    def mark_reauthorise(self, connection_id: int, reason: str) -> None:
        """Record that a connection needs the operator (a refused refresh, a revoked client)."""
        self.clients.token_store(connection_id).set_state(ConnectionState.REAUTH, redact(reason))

    def _status(self, row: Connection) -> TokenStatus:
        assert row.id is not None
        system: Literal["zoho", "servicenow"] = "zoho" if row.kind == ConnectionKind.ZOHO else "servicenow"
        margin = (
            self.settings.zoho.refresh_margin_seconds
            if system == "zoho"
            else self.settings.servicenow.refresh_margin_seconds
        )
        expires_in = (
            None
            if row.access_token_expires_at is None
            else (row.access_token_expires_at - self.clock.now()).total_seconds()
        )
        stored = _STORED_STATES.get(row.state, "not connected")
        if system == "zoho" and row.refresh_token_enc is None and stored != "reauthorise":
            stored = "not connected"
        live: TokenStateName | None = None
        message = row.last_error
        manager = self.clients.zoho_managers.get(row.id)
        auth = self.clients.servicenow_auths.get(row.id)
        if manager is not None:
            live, message = manager.state, manager.reason or message
        elif auth is not None:
            live = auth.state
        state = _worst(stored, live)
        if state == "ok":
            message = None
        refresh_in = None if expires_in is None else max(0.0, expires_in - margin)
        return TokenStatus(
            system=system,
            connection_id=row.id,
            state=state,
            expires_in_s=expires_in,
            refresh_in_s=refresh_in,
            message=redact(message) if message else None,
        )


__all__ = ["TokenStateName", "TokenStatus", "TokenStatuses"]
