"""The one object the TUI and the CLI hold: connections, profiles, token states, and clients for a profile.

A `Workspace` wraps one database, the settings and the vault, and hands each call to the service that does
it: `connections.ConnectionRepository` (connection rows), `profiles.ProfileRepository` (sync profiles),
`connect.zoho` and `connect.servicenow` (the OAuth flows), `connect.servicenow_preflight` (what an instance
lacks), `clients.ClientFactory` (clients, their auth
objects and budgets, with injectable retry and budget policies) and `token_status.TokenStatuses` (the
badges). Secrets are encrypted by the vault before they reach the database and never appear in a view, a
log line or an error message. The names screens and commands import live on here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa

from zbsn.core.clients import ORG_LESS_BUDGET, ClientFactory
from zbsn.core.clock import Clock, SystemClock
from zbsn.core.connect.servicenow import ServiceNowConnector, ServiceNowTestResult
from zbsn.core.connect.servicenow_preflight import PreflightCheck, check_servicenow
from zbsn.core.connect.zoho import (
    DEFAULT_ACCOUNTS_SERVER,
    REDIRECT_PATH,
    REDIRECT_PORT,
    OpenUrl,
    OrganizationChoice,
    ZohoConnector,
    ZohoConnectResult,
)
from zbsn.core.connections import ConnectionRepository, ConnectionView, connection_view
from zbsn.core.db.models import SyncProfile
from zbsn.core.domain import ConnectionKind, CostCenterSource
from zbsn.core.engine.service import EngineService
from zbsn.core.error_kinds import classify_error
from zbsn.core.profiles import ProfileRepository, ProfileView
from zbsn.core.scheduling import ScheduleService
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.settings import Settings
from zbsn.core.token_status import TokenStateName, TokenStatus, TokenStatuses
from zbsn.core.token_store import DbTokenStore, SecretCipher
from zbsn.core.workspace_errors import WorkspaceError
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, BudgetRegistry, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient


def _profile_id(profile: SyncProfile) -> int:
    assert profile.id is not None
    return profile.id


class Workspace:
    """Connections, profiles and clients over one database (a facade over the services that do the work)."""

    def __init__(
        self,
        db_engine: sa.Engine,
        settings: Settings,
        vault: SecretCipher,
        clock: Clock | None = None,
        *,
        budgets: BudgetRegistry | None = None,
        budget_config: BudgetConfig | None = None,
        servicenow_retry: RetryPolicy | None = None,
    ) -> None:
        self.db_engine = db_engine
        self.settings = settings
        self.vault = vault
        self.clock: Clock = clock or SystemClock()
        self.connections = ConnectionRepository(db_engine)
        self.clients = ClientFactory(
            db_engine,
            settings,
            vault,
            self.clock,
            self.connections,
            budgets=budgets,
            budget_config=budget_config,
            servicenow_retry=servicenow_retry,
        )
        self.profiles = ProfileRepository(db_engine, self.connections, self.clock)
        self.tokens = TokenStatuses(self.connections, self.clients, settings, self.clock)
        self.zoho = ZohoConnector(self.connections, self.clients, self.clock)
        self.servicenow = ServiceNowConnector(self.connections, self.clients)

    @property
    def budgets(self) -> BudgetRegistry:
        """The Zoho budgets of this workspace's clients, one per organization."""
        return self.clients.budgets

    @property
    def budget_config(self) -> BudgetConfig:
        """The limits and retry policy every Zoho budget of this workspace gets."""
        return self.clients.budget_config

    # -- listing ------------------------------------------------------------------------------------------
    def list_connections(self, kind: ConnectionKind | None = None) -> list[ConnectionView]:
        """Every connection (optionally of one kind), without secrets."""
        return self.connections.views(kind)

    def get_connection(self, connection_id: int) -> ConnectionView:
        """One connection, without secrets."""
        return connection_view(self.connections.get(connection_id))

    def list_profiles(self) -> list[ProfileView]:
        """Every sync profile with its org and instance."""
        return self.profiles.all()

    def get_profile(self, profile_id: int) -> ProfileView:
        """One sync profile; WorkspaceError when there is none with this id."""
        return self.profiles.get(profile_id)

    def resolve_profile(self, name_or_id: str | int | None) -> ProfileView:
        """A profile by id or name; with None, the only profile (an error when there are several or none)."""
        return self.profiles.resolve(name_or_id)

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
        post_outbound_as_erp: bool = True,
        business_owner: str | None = None,
        cost_center_owners: Mapping[str, str] | None = None,
    ) -> ProfileView:
        """Pair a Zoho organization with a ServiceNow instance (`post_outbound_as_erp`: Zoho Books is the ERP,
        so zbsn marks the outbound invoices of the bills it staged posted; off when another ERP posts)."""
        return self.profiles.create(
            name,
            zoho_connection_id,
            servicenow_connection_id,
            cost_center_source=cost_center_source,
            cost_center_tag_name=cost_center_tag_name,
            allow_supplier_create=allow_supplier_create,
            legal_entity=legal_entity,
            post_outbound_as_erp=post_outbound_as_erp,
            business_owner=business_owner,
            cost_center_owners=cost_center_owners,
        )

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
        post_outbound_as_erp: bool | None = None,
        stage_bill_statuses: Sequence[str] | None = None,
        payment_terms_overrides: Mapping[str, str] | None = None,
        business_owner: str | None = None,
        cost_center_owners: Mapping[str, str] | None = None,
    ) -> ProfileView:
        """Change a profile's settings (only the ones given; an empty legal entity or business owner clears
        it; an empty mapping clears the overrides)."""
        return self.profiles.update(
            profile_id,
            name=name,
            zoho_connection_id=zoho_connection_id,
            servicenow_connection_id=servicenow_connection_id,
            cost_center_source=cost_center_source,
            cost_center_tag_name=cost_center_tag_name,
            allow_supplier_create=allow_supplier_create,
            legal_entity=legal_entity,
            enabled=enabled,
            post_outbound_as_erp=post_outbound_as_erp,
            stage_bill_statuses=stage_bill_statuses,
            payment_terms_overrides=payment_terms_overrides,
            business_owner=business_owner,
            cost_center_owners=cost_center_owners,
        )

    # -- Zoho ---------------------------------------------------------------------------------------------
    def zoho_token_manager(self, connection_id: int) -> ZohoTokenManager:
        """The (cached) token manager of a Zoho connection: one per connection, so its state is shared."""
        return self.clients.zoho_token_manager(connection_id)

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
        return await self.zoho.connect_auth_code(
            client_id,
            client_secret,
            name=name,
            connection_id=connection_id,
            accounts_server=accounts_server,
            open_browser=open_browser,
            open_url=open_url,
            port=port,
            redirect_path=redirect_path,
            timeout_s=timeout_s,
            organization_id=organization_id,
            on_consent_url=on_consent_url,
        )

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
        return await self.zoho.connect_self_client(
            code,
            client_id,
            client_secret,
            accounts_server,
            name=name,
            connection_id=connection_id,
            organization_id=organization_id,
        )

    async def list_zoho_organizations(self, connection_id: int) -> list[OrganizationChoice]:
        """The organizations the authorised user belongs to (`GET /books/v3/organizations`)."""
        return await self.zoho.list_organizations(connection_id)

    def choose_zoho_organization(
        self, connection_id: int, organization_id: str, organizations: list[OrganizationChoice]
    ) -> OrganizationChoice:
        """Store the chosen organization, its time zone and currency on the connection."""
        return self.zoho.choose_organization(connection_id, organization_id, organizations)

    # -- ServiceNow -----------------------------------------------------------------------------------------
    def servicenow_auth(self, connection_id: int) -> ServiceNowAuth:
        """The (cached) client-credentials auth of a ServiceNow connection."""
        return self.clients.servicenow_auth(connection_id)

    async def connect_servicenow(
        self, instance_url: str, client_id: str, client_secret: str, *, name: str | None = None
    ) -> tuple[int, ServiceNowTestResult]:
        """Store a ServiceNow instance and its OAuth client, then test it (mint a token, read a table)."""
        return await self.servicenow.connect(instance_url, client_id, client_secret, name=name)

    async def test_servicenow(self, connection_id: int) -> ServiceNowTestResult:
        """Mint a new token with the stored client credentials and read the legal entities; records the
        state on the connection."""
        return await self.servicenow.test(connection_id)

    async def preflight(self, connection_id: int) -> PreflightCheck:
        """What the connection's instance lacks for zbsn's staging (tables, columns, transform maps,
        coalesce, roles), read in one request; `error` says why it could not be read."""
        return await check_servicenow(self.connections, self.clients, self.clock, connection_id)

    # -- clients for a profile ------------------------------------------------------------------------------
    def servicenow_client_for_connection(self, connection_id: int) -> ServiceNowClient:
        """A ServiceNow client for a connection's instance (the caller closes it)."""
        return self.clients.servicenow_client(connection_id)

    def servicenow_client(self, profile_id: int) -> ServiceNowClient:
        """A ServiceNow client for a profile's instance (the caller closes it)."""
        return self.clients.servicenow_client(self.get_profile(profile_id).servicenow_connection_id)

    def zoho_client(self, profile_id: int) -> ZohoBooksClient:
        """A Zoho Books client for a profile's org, sharing the org's budget (the caller closes it)."""
        profile = self.get_profile(profile_id)
        if not profile.organization_id:
            raise WorkspaceError(f"Profile '{profile.name}' has no Zoho Books organization chosen.")
        return self.clients.zoho_client(profile.zoho_connection_id, profile.organization_id)

    def engine_service(self) -> EngineService:
        """The engine, building real clients for each profile from this workspace (one per use)."""
        return EngineService(
            self.db_engine,
            lambda profile: self.zoho_client(_profile_id(profile)),
            lambda profile: self.servicenow_client(_profile_id(profile)),
            self.clock,
            attachment_max_bytes=self.settings.attachments.max_bytes,
        )

    def schedules(self) -> ScheduleService:
        """Cron schedules over this workspace's database."""
        return ScheduleService(self.db_engine, self.clock)

    def forget_clients(self) -> None:
        """Drop cached token managers, auth objects and budgets (their locks belong to the loop that used
        them); call it before using the workspace from another event loop."""
        self.clients.forget()

    def zoho_budget(self, organization_id: str) -> OrgBudget:
        """The budget shared by every client of this organization in this workspace."""
        return self.clients.zoho_budget(organization_id)

    # -- token states ---------------------------------------------------------------------------------------
    def token_statuses(self, profile_id: int | None = None) -> list[TokenStatus]:
        """Token state of every connection (or of one profile's two)."""
        if profile_id is None:
            return self.tokens.of_all()
        profile = self.get_profile(profile_id)
        return self.tokens.of_all({profile.zoho_connection_id, profile.servicenow_connection_id})

    def token_status(self, connection_id: int) -> TokenStatus:
        """State and time left for one connection, from its live auth object or else from the database."""
        return self.tokens.of(connection_id)

    def persist_token_states(self) -> None:
        """Write what live auth objects learnt (a refused refresh, a throttle) to their connection rows."""
        self.tokens.persist()

    def mark_reauthorise(self, connection_id: int, reason: str) -> None:
        """Record that a connection needs the operator (a refused refresh, a revoked client)."""
        self.tokens.mark_reauthorise(connection_id, reason)

    def token_store(self, connection_id: int) -> DbTokenStore:
        """The encrypted token store of a connection."""
        return self.clients.token_store(connection_id)


__all__ = [
    "DEFAULT_ACCOUNTS_SERVER",
    "ORG_LESS_BUDGET",
    "REDIRECT_PATH",
    "REDIRECT_PORT",
    "ConnectionView",
    "OpenUrl",
    "OrganizationChoice",
    "PreflightCheck",
    "ProfileView",
    "ServiceNowTestResult",
    "TokenStateName",
    "TokenStatus",
    "Workspace",
    "WorkspaceError",
    "ZohoConnectResult",
    "classify_error",
]
