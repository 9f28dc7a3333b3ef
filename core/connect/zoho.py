"""Connect a Zoho Books organization: OAuth consent with a loopback redirect, or a Self Client code.

Either way the OAuth client is stored (the secret encrypted) on a connection row, the code is exchanged at
the accounts server of the user's data centre (the redirect says which), the tokens and the region are
stored, and the organizations the user belongs to are listed; one is chosen when given or when it is the
only one.
"""

from __future__ import annotations

import asyncio
import inspect
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass

from zbsn.core.clients import ClientFactory
from zbsn.core.clock import Clock
from zbsn.core.connections import ConnectionRepository
from zbsn.core.domain import ConnectionKind
from zbsn.core.workspace_errors import WorkspaceError
from zbsn.core.zoho.errors import ZohoConsentError
from zbsn.core.zoho.models import ZohoOrganization
from zbsn.core.zoho.oauth import build_consent_url
from zbsn.core.zoho.redirect_catcher import RedirectCatcher

DEFAULT_ACCOUNTS_SERVER = "https://accounts.zoho.com"
# Real Zoho accepts only a registered redirect URI, so the loopback port is fixed: register
# http://127.0.0.1:8766/oauth/callback for the OAuth client (the sandbox accepts any loopback URI).
REDIRECT_PORT = 8766
REDIRECT_PATH = "/oauth/callback"
OpenUrl = Callable[[str], object]
"""Opens the consent URL (the browser by default; the demo follows it with an HTTP client)."""


@dataclass(frozen=True, slots=True)
class OrganizationChoice:
    """A Zoho Books organization the authorised user can pick."""

    organization_id: str
    name: str
    time_zone: str | None
    currency_code: str | None
    is_default: bool


@dataclass(frozen=True, slots=True)
class ZohoConnectResult:
    """After the exchange: where the tokens live, the orgs to choose from, and the org chosen (if any)."""

    connection_id: int
    dc: str | None
    accounts_server: str
    api_domain: str | None
    organizations: list[OrganizationChoice]
    chosen: OrganizationChoice | None


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value


class ZohoConnector:
    """Authorises Zoho connections and records the organization each one syncs."""

    def __init__(self, connections: ConnectionRepository, clients: ClientFactory, clock: Clock) -> None:
        self.connections = connections
        self.clients = clients
        self.clock = clock

    async def connect_auth_code(
        self,
        client_id: str,
        client_secret: str | None,
        *,
        name: str | None = None,
        connection_id: int | None = None,
        accounts_server: str = DEFAULT_ACCOUNTS_SERVER,
        open_browser: bool = True,
        open_url: OpenUrl | None = None,
        port: int = REDIRECT_PORT,
        redirect_path: str = REDIRECT_PATH,
        timeout_s: float = 300.0,
        organization_id: str | None = None,
        on_consent_url: Callable[[str], None] | None = None,
    ) -> ZohoConnectResult:
        """Consent in the browser and catch the redirect on loopback; exchange the code at the redirect's
        accounts server; store tokens and DC; list the organizations (choose one when given or only one)."""
        async with RedirectCatcher(port=port, path=redirect_path) as catcher:
            consent = build_consent_url(accounts_server, client_id, catcher.redirect_uri)
            if on_consent_url is not None:
                on_consent_url(consent.url)
            if open_url is not None:
                await _maybe_await(open_url(consent.url))
            elif open_browser:
                await asyncio.to_thread(webbrowser.open, consent.url)
            try:
                redirect = await catcher.wait(consent.state, timeout_s)
            except TimeoutError as exc:
                raise ZohoConsentError(
                    f"no consent arrived within {timeout_s:.0f} s; open the consent URL and approve access"
                ) from exc
        connection_id = self._store_client(name, connection_id, client_id, client_secret)
        manager = self.clients.zoho_token_manager(connection_id)
        tokens = await manager.authorize_with_redirect(redirect, catcher.redirect_uri)
        return await self._after_exchange(connection_id, tokens.api_domain, organization_id)

    async def connect_self_client(
        self,
        code: str,
        client_id: str,
        client_secret: str | None,
        accounts_server: str = DEFAULT_ACCOUNTS_SERVER,
        *,
        name: str | None = None,
        connection_id: int | None = None,
        organization_id: str | None = None,
    ) -> ZohoConnectResult:
        """Exchange a Self Client grant code at the accounts server of the console that generated it."""
        connection_id = self._store_client(name, connection_id, client_id, client_secret)
        manager = self.clients.zoho_token_manager(connection_id)
        tokens = await manager.authorize_self_client(accounts_server.rstrip("/"), code.strip())
        return await self._after_exchange(connection_id, tokens.api_domain, organization_id)

    async def list_organizations(self, connection_id: int) -> list[OrganizationChoice]:
        """The organizations the authorised user belongs to (`GET /books/v3/organizations`)."""
        async with self.clients.zoho_organizations_client(connection_id) as client:
            organizations = await client.get_organizations()
        listed = [org.organization_id for org in organizations if isinstance(org, ZohoOrganization)]
        await asyncio.to_thread(self.clients.charge_organizations, client, listed)
        return [
            OrganizationChoice(
                organization_id=org.organization_id,
                name=org.name,
                time_zone=org.time_zone,
                currency_code=org.currency_code,
                is_default=org.is_default_org,
            )
            for org in organizations
            if isinstance(org, ZohoOrganization)
        ]

    def choose_organization(
        self, connection_id: int, organization_id: str, organizations: list[OrganizationChoice]
    ) -> OrganizationChoice:
        """Store the chosen organization, its time zone and currency on the connection."""
        for org in organizations:
            if org.organization_id == organization_id:
                break
        else:
            known = ", ".join(f"{o.organization_id} ({o.name})" for o in organizations) or "none"
            raise WorkspaceError(f"Organization {organization_id} is not one of this user's: {known}.")
        with self.connections.edit(connection_id) as row:
            row.organization_id = org.organization_id
            row.organization_name = org.name
            row.time_zone = org.time_zone
            row.currency_code = org.currency_code
            row.updated_at = self.clock.now()
        return org

    def _store_client(
        self, name: str | None, connection_id: int | None, client_id: str, secret: str | None
    ) -> int:
        """The connection to authorise (a new one when None), with its OAuth client stored; an empty
        `secret` keeps the stored one (re-authorising needs no retyping)."""
        if not secret:
            store = None if connection_id is None else self.clients.token_store(connection_id)
            stored = None if store is None else store.client_secret()
            if stored is None:
                raise WorkspaceError("Enter the client secret of the Zoho OAuth client.")
            secret = stored
        if connection_id is None:
            label = name or self.connections.free_name("Zoho Books")
            row = self.connections.create(ConnectionKind.ZOHO, label)
            assert row.id is not None
            connection_id = row.id
        self.clients.token_store(connection_id).set_client_secret(client_id, secret)
        self.clients.forget_auth(connection_id)
        return connection_id

    async def _after_exchange(
        self, connection_id: int, api_domain: str | None, organization_id: str | None
    ) -> ZohoConnectResult:
        organizations = await self.list_organizations(connection_id)
        chosen = None
        if organization_id is not None:
            chosen = self.choose_organization(connection_id, organization_id, organizations)
        elif len(organizations) == 1:
            only = organizations[0].organization_id
            chosen = self.choose_organization(connection_id, only, organizations)
        row = self.connections.get(connection_id)
        return ZohoConnectResult(
            connection_id=connection_id,
            dc=row.dc,
            accounts_server=row.accounts_server or "",
            api_domain=row.api_domain or api_domain,
            organizations=organizations,
            chosen=chosen,
        )


__all__ = [
    "DEFAULT_ACCOUNTS_SERVER",
    "REDIRECT_PATH",
    "REDIRECT_PORT",
    "OpenUrl",
    "OrganizationChoice",
    "ZohoConnectResult",
    "ZohoConnector",
]
