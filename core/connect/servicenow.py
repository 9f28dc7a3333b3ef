"""Connect a ServiceNow instance with OAuth client credentials, and test that they still work.

The client id and secret are stored (the secret encrypted) on the instance's connection row, created on
first use; a test mints a new token and reads the legal entities, and records the outcome on the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from zbsn.core.clients import ClientFactory
from zbsn.core.connections import ConnectionRepository
from zbsn.core.domain import ConnectionKind, ConnectionState
from zbsn.core.redaction import redact
from zbsn.core.servicenow.errors import ServiceNowError, ServiceNowReauthorize


@dataclass(frozen=True, slots=True)
class ServiceNowTestResult:
    """The outcome of a connection test."""

    ok: bool
    message: str
    expires_in_s: float | None = None
    legal_entities: int | None = None


def normalise_instance_url(instance_url: str) -> str:
    """`acme.service-now.com/` as `https://acme.service-now.com` (a scheme given is kept)."""
    instance_url = instance_url.strip().rstrip("/")
    if not instance_url.startswith(("https://", "http://")):
        instance_url = f"https://{instance_url}"
    return instance_url


class ServiceNowConnector:
    """Stores and tests ServiceNow connections."""

    def __init__(self, connections: ConnectionRepository, clients: ClientFactory) -> None:
        self.connections = connections
        self.clients = clients

    async def connect(
        self, instance_url: str, client_id: str, client_secret: str, *, name: str | None = None
    ) -> tuple[int, ServiceNowTestResult]:
        """Store a ServiceNow instance and its OAuth client, then test it (mint a token, read a table)."""
        instance_url = normalise_instance_url(instance_url)
        existing = self.connections.find_instance(instance_url)
        connection_id = existing.id if existing is not None else None
        if connection_id is None:
            label = name or self.connections.free_name(f"ServiceNow {httpx.URL(instance_url).host}")
            row = self.connections.create(ConnectionKind.SERVICENOW, label, instance_url=instance_url)
            assert row.id is not None
            connection_id = row.id
        self.clients.token_store(connection_id).set_client_secret(client_id, client_secret)
        return connection_id, await self.test(connection_id)

    async def test(self, connection_id: int) -> ServiceNowTestResult:
        """Mint a new token with the stored client credentials (a cached token would prove nothing about
        them) and read the legal entities; records the state on the connection."""
        store = self.clients.token_store(connection_id)
        store.clear_tokens()
        self.clients.forget_auth(connection_id)
        try:
            client = self.clients.servicenow_client(connection_id)
            async with client:
                entities = await client.list_legal_entities()
        except ServiceNowReauthorize as exc:
            store.set_state(ConnectionState.REAUTH, redact(str(exc)))
            return ServiceNowTestResult(ok=False, message=redact(str(exc)))
        except (ServiceNowError, httpx.HTTPError) as exc:
            message = redact(f"{type(exc).__name__}: {exc}")
            store.set_state(ConnectionState.ERROR, message)
            return ServiceNowTestResult(ok=False, message=message)
        store.set_state(ConnectionState.CONNECTED)
        auth = self.clients.servicenow_auth(connection_id)
        return ServiceNowTestResult(
            ok=True,
            message=f"Connected; {len(entities)} legal entities visible.",
            expires_in_s=auth.expires_in(),
            legal_entities=len(entities),
        )


__all__ = ["ServiceNowConnector", "ServiceNowTestResult", "normalise_instance_url"]
