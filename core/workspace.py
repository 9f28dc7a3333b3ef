"""The one object the TUI and the CLI hold: connections, profiles, token states, and clients for a profile.

A `Workspace` wraps one database, the settings and the vault. It connects Zoho Books (auth-code consent with
a loopback redirect, or a Self Client code) and ServiceNow (client credentials), creates sync profiles, and
builds the real clients and the engine for a profile. Secrets are encrypted by the vault before they reach the
database and never appear in a view, a log line or an error message (every text goes through `redact`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx
import sqlalchemy as sa
from sqlmodel import col, select

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, SyncProfile
from zbsn.core.domain import ConnectionKind, ConnectionState, CostCenterSource
from zbsn.core.engine.service import EngineService
from zbsn.core.redaction import redact
from zbsn.core.scheduling import ScheduleService
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.errors import ServiceNowError, ServiceNowReauthorize
from zbsn.core.settings import Settings
from zbsn.core.token_store import DbTokenStore, SecretCipher
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, BudgetRegistry, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.core.zoho.errors import ZohoAuthError, ZohoConsentError, ZohoTokenThrottled, ZohoTransportError
from zbsn.core.zoho.models import ZohoOrganization
from zbsn.core.zoho.oauth import build_consent_url
from zbsn.core.zoho.redirect_catcher import RedirectCatcher

log = logging.getLogger(__name__)

DEFAULT_ACCOUNTS_SERVER = "https://accounts.zoho.com"
# Real Zoho accepts only a registered redirect URI, so the loopback port is fixed: register
# http://127.0.0.1:8766/oauth/callback for the OAuth client (the sandbox accepts any loopback URI).
REDIRECT_PORT = 8766
REDIRECT_PATH = "/oauth/callback"
ORG_LESS_BUDGET = "-"  # the budget of calls that name no organization (listing organizations)
TokenStateName = Literal["ok", "wait", "reauthorise", "not connected"]
OpenUrl = Callable[[str], object]
"""Opens the consent URL (the browser by default; the demo follows it with an HTTP client)."""


class WorkspaceError(Exception):
    """An operator-facing problem (unknown profile, incomplete connection, …)."""


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as screens list it: never a secret."""

    id: int
    kind: str
    name: str
    state: str
    dc: str | None
    accounts_server: str | None
    api_domain: str | None
    organization_id: str | None
    organization_name: str | None
    time_zone: str | None
    currency_code: str | None
    instance_url: str | None
    client_id: str | None
    has_refresh_token: bool
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A sync profile with the names of what it pairs."""

    id: int
    name: str
    zoho_connection_id: int
    servicenow_connection_id: int
    organization_id: str | None
    organization_name: str | None
    instance_url: str | None
    cost_center_source: str
    cost_center_tag_name: str
    allow_supplier_create: bool
    legal_entity: str | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """What the token badge shows: state and seconds until the access token expires."""

    system: Literal["zoho", "servicenow"]
    connection_id: int
    state: TokenStateName
    expires_in_s: float | None
    refresh_in_s: float | None
    message: str | None = None


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


@dataclass(frozen=True, slots=True)
class ServiceNowTestResult:
    """The outcome of a connection test."""

    ok: bool
    message: str
    expires_in_s: float | None = None
    legal_entities: int | None = None


def _stage_mode(mode: str) -> Literal["async_multiple", "sync_multiple", "single"]:
    if mode == "async":
        return "async_multiple"
    if mode == "single":
        return "single"
    return "sync_multiple"


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value


class Workspace:
    """Connections, profiles and clients over one database."""

    def __init__(
        self,
        db_engine: sa.Engine,
        settings: Settings,
        vault: SecretCipher,
        clock: Clock | None = None,
        *,
        budgets: BudgetRegistry | None = None,
        budget_config: BudgetConfig | None = None,
    ) -> None:
        self.db_engine = db_engine
        self.settings = settings
        self.vault = vault
        self.clock: Clock = clock or SystemClock()
        self.connections = ConnectionRepository(db_engine)
        self.budgets = budgets or BudgetRegistry()
        self.budget_config = budget_config or BudgetConfig(
            per_window_limit=settings.zoho.per_minute_limit,
            window_s=settings.zoho.window_seconds,
            daily_limit=settings.zoho.daily_limit,
        )
        self._zoho_managers: dict[int, ZohoTokenManager] = {}
        self._servicenow_auths: dict[int, ServiceNowAuth] = {}

    # -- listing ------------------------------------------------------------------------------------------
    def list_connections(self, kind: ConnectionKind | None = None) -> list[ConnectionView]:
        """Every connection (optionally of one kind), without secrets."""
        with session_scope(self.db_engine) as session:
            query = select(Connection).order_by(col(Connection.id))
            if kind is not None:
                query = query.where(Connection.kind == kind)
            return [_connection_view(row) for row in session.exec(query).all()]

    def get_connection(self, connection_id: int) -> ConnectionView:
        return _connection_view(self._connection(connection_id))

    def list_profiles(self) -> list[ProfileView]:
        """Every sync profile with its org and instance."""
        with session_scope(self.db_engine) as session:
            profiles = session.exec(select(SyncProfile).order_by(col(SyncProfile.id))).all()
            views = []
            for profile in profiles:
                zoho = session.get(Connection, profile.zoho_connection_id)
                now = session.get(Connection, profile.servicenow_connection_id)
                views.append(_profile_view(profile, zoho, now))
            return views

    def get_profile(self, profile_id: int) -> ProfileView:
        for view in self.list_profiles():
            if view.id == profile_id:
                return view
        raise WorkspaceError(f"There is no profile {profile_id}.")

    def resolve_profile(self, name_or_id: str | int | None) -> ProfileView:
        """A profile by id or name; with None, the only profile (an error when there are several or none)."""
        profiles = self.list_profiles()
        if name_or_id is None:
            if len(profiles) == 1:
                return profiles[0]
            if not profiles:
                raise WorkspaceError("No sync profile yet: connect both systems and create one first.")
            names = ", ".join(p.name for p in profiles)
            raise WorkspaceError(f"Several profiles exist ({names}); choose one with --profile.")
        for profile in profiles:
            if str(profile.id) == str(name_or_id) or profile.name == str(name_or_id):
                return profile
        raise WorkspaceError(f"There is no profile '{name_or_id}'.")

    def create_profile(
        self,
        name: str,
        zoho_connection_id: int,
        servicenow_connection_id: int,
        *,
        cost_center_source: CostCenterSource = CostCenterSource.REPORTING_TAG,
        cost_center_tag_name: str = "Cost Center",
        allow_supplier_create: bool = False,
        legal_entity: str | None = None,
    ) -> ProfileView:
        """Pair a Zoho organization with a ServiceNow instance."""
        zoho = self._connection(zoho_connection_id)
        now = self._connection(servicenow_connection_id)
        if zoho.kind != ConnectionKind.ZOHO or now.kind != ConnectionKind.SERVICENOW:
            raise WorkspaceError("A profile pairs one Zoho Books connection with one ServiceNow connection.")
        if not zoho.organization_id:
            raise WorkspaceError("Choose the Zoho Books organization of this connection first.")
        if any(view.name == name for view in self.list_profiles()):
            raise WorkspaceError(f"A profile named '{name}' exists already.")
        with session_scope(self.db_engine) as session:
            profile = SyncProfile(
                name=name,
                zoho_connection_id=zoho_connection_id,
                servicenow_connection_id=servicenow_connection_id,
                cost_center_source=cost_center_source,
                cost_center_tag_name=cost_center_tag_name,
                allow_supplier_create=allow_supplier_create,
                legal_entity=legal_entity,
                created_at=self.clock.now(),
            )
            session.add(profile)
            session.flush()
            return _profile_view(profile, zoho, now)

    def update_profile(
        self,
        profile_id: int,
        *,
        name: str | None = None,
        zoho_connection_id: int | None = None,
        servicenow_connection_id: int | None = None,
        cost_center_source: CostCenterSource | None = None,
        cost_center_tag_name: str | None = None,
        allow_supplier_create: bool | None = None,
        legal_entity: str | None = None,
        enabled: bool | None = None,
    ) -> ProfileView:
        """Change a profile's settings (only the ones given; an empty legal entity clears it).

        Pointing the profile at another Zoho organization or ServiceNow instance keeps its audit log; the
        next run aligns the mappings against the new pair.
        """
        with session_scope(self.db_engine) as session:
            profile = session.get(SyncProfile, profile_id)
            if profile is None:
                raise WorkspaceError(f"There is no profile {profile_id}.")
            if name is not None and name != profile.name:
                name = name.strip()
                if not name:
                    raise WorkspaceError("A profile needs a name.")
                taken = session.exec(select(SyncProfile.id).where(SyncProfile.name == name)).first()
                if taken is not None:
                    raise WorkspaceError(f"A profile named '{name}' exists already.")
                profile.name = name
            if zoho_connection_id is not None:
                zoho = session.get(Connection, zoho_connection_id)
                if zoho is None or zoho.kind != ConnectionKind.ZOHO:
                    raise WorkspaceError(f"Connection {zoho_connection_id} is not a Zoho Books connection.")
                if not zoho.organization_id:
                    raise WorkspaceError("Choose the Zoho Books organization of this connection first.")
                profile.zoho_connection_id = zoho_connection_id
            if servicenow_connection_id is not None:
                now = session.get(Connection, servicenow_connection_id)
                if now is None or now.kind != ConnectionKind.SERVICENOW:
                    raise WorkspaceError(
                        f"Connection {servicenow_connection_id} is not a ServiceNow connection."
                    )
                profile.servicenow_connection_id = servicenow_connection_id
            if cost_center_source is not None:
                profile.cost_center_source = cost_center_source
            if cost_center_tag_name is not None:
                if not cost_center_tag_name.strip():
                    raise WorkspaceError("Name the reporting tag that holds the cost center.")
                profile.cost_center_tag_name = cost_center_tag_name.strip()
            if allow_supplier_create is not None:
                profile.allow_supplier_create = allow_supplier_create
            if legal_entity is not None:
                profile.legal_entity = legal_entity.strip() or None
            if enabled is not None:
                profile.enabled = enabled
            session.add(profile)
            session.flush()
            zoho_row = session.get(Connection, profile.zoho_connection_id)
            now_row = session.get(Connection, profile.servicenow_connection_id)
            return _profile_view(profile, zoho_row, now_row)

    # -- Zoho ---------------------------------------------------------------------------------------------
    def zoho_token_manager(self, connection_id: int) -> ZohoTokenManager:
        """The (cached) token manager of a Zoho connection: one per connection, so its state is shared."""
        manager = self._zoho_managers.get(connection_id)
        if manager is None:
            row = self._connection(connection_id)
            store = self.token_store(connection_id)
            secret = store.client_secret()
            if not row.client_id or secret is None:
                raise WorkspaceError(f"Zoho connection '{row.name}' has no OAuth client: connect it again.")
            manager = ZohoTokenManager(
                store,
                row.client_id,
                secret,
                self.clock,
                self.settings.zoho.refresh_margin_seconds,
            )
            self._zoho_managers[connection_id] = manager
        return manager

    def _zoho_connection(
        self, name: str | None, connection_id: int | None, client_id: str, secret: str | None
    ) -> int:
        """The connection to authorise (a new one when None), with its OAuth client stored; an empty
        `secret` keeps the stored one (re-authorising needs no retyping)."""
        if not secret:
            stored = self.token_store(connection_id).client_secret() if connection_id is not None else None
            if stored is None:
                raise WorkspaceError("Enter the client secret of the Zoho OAuth client.")
            secret = stored
        if connection_id is None:
            row = self.connections.create(ConnectionKind.ZOHO, name or self._free_name("Zoho Books"))
            assert row.id is not None
            connection_id = row.id
        self.token_store(connection_id).set_client_secret(client_id, secret)
        self._zoho_managers.pop(connection_id, None)
        return connection_id

    async def connect_zoho_auth_code(
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
        connection_id = self._zoho_connection(name, connection_id, client_id, client_secret)
        manager = self.zoho_token_manager(connection_id)
        tokens = await manager.authorize_with_redirect(redirect, catcher.redirect_uri)
        return await self._after_zoho_exchange(connection_id, tokens.api_domain, organization_id)

    async def connect_zoho_self_client(
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
        connection_id = self._zoho_connection(name, connection_id, client_id, client_secret)
        manager = self.zoho_token_manager(connection_id)
        tokens = await manager.authorize_self_client(accounts_server.rstrip("/"), code.strip())
        return await self._after_zoho_exchange(connection_id, tokens.api_domain, organization_id)

    async def _after_zoho_exchange(
        self, connection_id: int, api_domain: str | None, organization_id: str | None
    ) -> ZohoConnectResult:
        organizations = await self.list_zoho_organizations(connection_id)
        chosen = None
        if organization_id is not None:
            chosen = self.choose_zoho_organization(connection_id, organization_id, organizations)
        elif len(organizations) == 1:
            only = organizations[0].organization_id
            chosen = self.choose_zoho_organization(connection_id, only, organizations)
        row = self._connection(connection_id)
        return ZohoConnectResult(
            connection_id=connection_id,
            dc=row.dc,
            accounts_server=row.accounts_server or "",
            api_domain=row.api_domain or api_domain,
            organizations=organizations,
            chosen=chosen,
        )

    async def list_zoho_organizations(self, connection_id: int) -> list[OrganizationChoice]:
        """The organizations the authorised user belongs to (`GET /books/v3/organizations`)."""
        client = ZohoBooksClient(
            organization_id="",
            tokens=self.zoho_token_manager(connection_id),
            budget=self.zoho_budget(ORG_LESS_BUDGET),
            clock=self.clock,
        )
        async with client:
            organizations = await client.get_organizations()
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

    def choose_zoho_organization(
        self, connection_id: int, organization_id: str, organizations: list[OrganizationChoice]
    ) -> OrganizationChoice:
        """Store the chosen organization, its time zone and currency on the connection."""
        for org in organizations:
            if org.organization_id == organization_id:
                break
        else:
            known = ", ".join(f"{o.organization_id} ({o.name})" for o in organizations) or "none"
            raise WorkspaceError(f"Organization {organization_id} is not one of this user's: {known}.")
        with session_scope(self.db_engine) as session:
            row = session.get(Connection, connection_id)
            assert row is not None
            row.organization_id = org.organization_id
            row.organization_name = org.name
            row.time_zone = org.time_zone
            row.currency_code = org.currency_code
            row.updated_at = self.clock.now()
            session.add(row)
        return org

    # -- ServiceNow -----------------------------------------------------------------------------------------
    def servicenow_auth(self, connection_id: int) -> ServiceNowAuth:
        """The (cached) client-credentials auth of a ServiceNow connection."""
        auth = self._servicenow_auths.get(connection_id)
        if auth is None:
            row = self._connection(connection_id)
            store = self.token_store(connection_id)
            secret = store.client_secret()
            if not row.instance_url or not row.client_id or secret is None:
                raise WorkspaceError(f"ServiceNow connection '{row.name}' is incomplete: connect it again.")
            auth = ServiceNowAuth(
                row.instance_url,
                row.client_id,
                secret,
                store,
                self.clock,
                self.settings.servicenow.refresh_margin_seconds,
            )
            self._servicenow_auths[connection_id] = auth
        return auth

    async def connect_servicenow(
        self, instance_url: str, client_id: str, client_secret: str, *, name: str | None = None
    ) -> tuple[int, ServiceNowTestResult]:
        """Store a ServiceNow instance and its OAuth client, then test it (mint a token, read a table)."""
        instance_url = instance_url.strip().rstrip("/")
        if not instance_url.startswith(("https://", "http://")):
            instance_url = f"https://{instance_url}"
        with session_scope(self.db_engine) as session:
            existing = session.exec(
                select(Connection)
                .where(Connection.kind == ConnectionKind.SERVICENOW)
                .where(Connection.instance_url == instance_url)
            ).first()
            connection_id = existing.id if existing is not None else None
        if connection_id is None:
            label = name or self._free_name(f"ServiceNow {httpx.URL(instance_url).host}")
            row = self.connections.create(ConnectionKind.SERVICENOW, label, instance_url=instance_url)
            assert row.id is not None
            connection_id = row.id
        self.token_store(connection_id).set_client_secret(client_id, client_secret)
        return connection_id, await self.test_servicenow(connection_id)

    async def test_servicenow(self, connection_id: int) -> ServiceNowTestResult:
        """Mint a new token with the stored client credentials (a cached token would prove nothing about
        them) and read the legal entities; records the state on the connection."""
        store = self.token_store(connection_id)
        store.clear_tokens()
        self._servicenow_auths.pop(connection_id, None)
        try:
            client = self.servicenow_client_for_connection(connection_id)
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
        auth = self.servicenow_auth(connection_id)
        return ServiceNowTestResult(
            ok=True,
            message=f"Connected; {len(entities)} legal entities visible.",
            expires_in_s=auth.expires_in(),
            legal_entities=len(entities),
        )

    # -- clients for a profile ------------------------------------------------------------------------------
    def servicenow_client_for_connection(self, connection_id: int) -> ServiceNowClient:
        row = self._connection(connection_id)
        assert row.instance_url is not None
        return ServiceNowClient(
            row.instance_url,
            self.servicenow_auth(connection_id),
            batch_size=self.settings.servicenow.batch_size,
            stage_mode=_stage_mode(self.settings.servicenow.insert_multiple_mode),
            clock=self.clock,
        )

    def servicenow_client(self, profile_id: int) -> ServiceNowClient:
        """A ServiceNow client for a profile's instance (the caller closes it)."""
        return self.servicenow_client_for_connection(self.get_profile(profile_id).servicenow_connection_id)

    def zoho_client(self, profile_id: int) -> ZohoBooksClient:
        """A Zoho Books client for a profile's org, sharing the org's budget (the caller closes it)."""
        profile = self.get_profile(profile_id)
        if not profile.organization_id:
            raise WorkspaceError(f"Profile '{profile.name}' has no Zoho Books organization chosen.")
        row = self._connection(profile.zoho_connection_id)
        return ZohoBooksClient(
            organization_id=profile.organization_id,
            tokens=self.zoho_token_manager(profile.zoho_connection_id),
            budget=self.zoho_budget(profile.organization_id),
            api_domain=row.api_domain,
            clock=self.clock,
        )

    def engine_service(self) -> EngineService:
        """The engine, building real clients for each profile from this workspace (one per use)."""
        return EngineService(
            self.db_engine,
            lambda profile: self.zoho_client(_profile_id(profile)),
            lambda profile: self.servicenow_client(_profile_id(profile)),
            self.clock,
        )

    def schedules(self) -> ScheduleService:
        """Cron schedules over this workspace's database."""
        return ScheduleService(self.db_engine, self.clock)

    def forget_clients(self) -> None:
        """Drop cached token managers, auth objects and budgets (their locks belong to the loop that used
        them); call it before using the workspace from another event loop."""
        self._zoho_managers.clear()
        self._servicenow_auths.clear()
        self.budgets = BudgetRegistry()

    def zoho_budget(self, organization_id: str) -> OrgBudget:
        """The budget shared by every client of this organization in this workspace."""
        return self.budgets.get(organization_id, self.budget_config, clock=self.clock)

    # -- token states ---------------------------------------------------------------------------------------
    def token_statuses(self, profile_id: int | None = None) -> list[TokenStatus]:
        """Token state of every connection (or of one profile's two)."""
        wanted: set[int] | None = None
        if profile_id is not None:
            profile = self.get_profile(profile_id)
            wanted = {profile.zoho_connection_id, profile.servicenow_connection_id}
        return [
            self.token_status(view.id)
            for view in self.list_connections()
            if wanted is None or view.id in wanted
        ]

    def token_status(self, connection_id: int) -> TokenStatus:
        """State and time left for one connection, from its live auth object or else from the database."""
        row = self._connection(connection_id)
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
        manager = self._zoho_managers.get(connection_id)
        auth = self._servicenow_auths.get(connection_id)
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

    def persist_token_states(self) -> None:
        """Write what live auth objects learnt (a refused refresh, a throttle) to their connection rows."""
        for connection_id, manager in self._zoho_managers.items():
            if manager.state == "reauthorise":
                self.mark_reauthorise(connection_id, manager.reason or "Zoho refused the refresh token")
        for connection_id, auth in self._servicenow_auths.items():
            if auth.state == "reauthorise":
                self.mark_reauthorise(connection_id, "ServiceNow refused the client credentials")

    def mark_reauthorise(self, connection_id: int, reason: str) -> None:
        """Record that a connection needs the operator (a refused refresh, a revoked client)."""
        self.token_store(connection_id).set_state(ConnectionState.REAUTH, redact(reason))

    # -- helpers --------------------------------------------------------------------------------------------
    def token_store(self, connection_id: int) -> DbTokenStore:
        """The encrypted token store of a connection."""
        return DbTokenStore(self.db_engine, self.vault, connection_id, self.clock)

    def _connection(self, connection_id: int) -> Connection:
        with session_scope(self.db_engine) as session:
            row = session.get(Connection, connection_id)
        if row is None:
            raise WorkspaceError(f"There is no connection {connection_id}.")
        return row

    def _free_name(self, base: str) -> str:
        taken = {view.name for view in self.list_connections()}
        if base not in taken:
            return base
        counter = 2
        while f"{base} ({counter})" in taken:
            counter += 1
        return f"{base} ({counter})"


def classify_error(exc: BaseException) -> Literal["reauthorise", "wait", "unreachable", "other"]:
    """What an error means for the operator: re-authorise, wait, the system is unreachable, or other."""
    if isinstance(exc, ZohoTokenThrottled):
        return "wait"
    if isinstance(exc, ZohoAuthError | ServiceNowReauthorize):
        return "reauthorise"  # includes a refused or timed-out consent
    if isinstance(exc, ZohoTransportError | httpx.TransportError | ConnectionError | asyncio.TimeoutError):
        return "unreachable"
    return "other"


_STORED_STATES: dict[str, TokenStateName] = {
    ConnectionState.CONNECTED: "ok",
    ConnectionState.WAIT: "wait",
    ConnectionState.REAUTH: "reauthorise",
}
_SEVERITY: tuple[TokenStateName, ...] = ("ok", "wait", "not connected", "reauthorise")


def _worst(stored: TokenStateName, live: TokenStateName | None) -> TokenStateName:
    """The more serious of what the row says and what a live auth object knows."""
    if live is None:
        return stored
    if stored == "not connected" and live == "ok":
        return "ok"  # a live auth object that works beats a row not yet marked connected
    return max(stored, live, key=_SEVERITY.index)


def _profile_id(profile: SyncProfile) -> int:
    assert profile.id is not None
    return profile.id


def _connection_view(row: Connection) -> ConnectionView:
    assert row.id is not None
    return ConnectionView(
        id=row.id,
        kind=row.kind,
        name=row.name,
        state=row.state,
        dc=row.dc,
        accounts_server=row.accounts_server,
        api_domain=row.api_domain,
        organization_id=row.organization_id,
        organization_name=row.organization_name,
        time_zone=row.time_zone,
        currency_code=row.currency_code,
        instance_url=row.instance_url,
        client_id=row.client_id,
        has_refresh_token=row.refresh_token_enc is not None,
        last_error=redact(row.last_error) if row.last_error else None,
    )


def _profile_view(profile: SyncProfile, zoho: Connection | None, now: Connection | None) -> ProfileView:
    assert profile.id is not None
    return ProfileView(
        id=profile.id,
        name=profile.name,
        zoho_connection_id=profile.zoho_connection_id,
        servicenow_connection_id=profile.servicenow_connection_id,
        organization_id=zoho.organization_id if zoho else None,
        organization_name=zoho.organization_name if zoho else None,
        instance_url=now.instance_url if now else None,
        cost_center_source=profile.cost_center_source,
        cost_center_tag_name=profile.cost_center_tag_name,
        allow_supplier_create=profile.allow_supplier_create,
        legal_entity=profile.legal_entity,
        enabled=profile.enabled,
    )


__all__ = [
    "ConnectionView",
    "OrganizationChoice",
    "ProfileView",
    "ServiceNowTestResult",
    "TokenStatus",
    "Workspace",
    "WorkspaceError",
    "ZohoConnectResult",
    "classify_error",
]
