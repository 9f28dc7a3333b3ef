"""Real Zoho Books and ServiceNow clients for stored connections, with the auth objects and budgets shared.

`ClientFactory` keeps one token manager per Zoho connection and one auth object per ServiceNow connection
(so refreshes are single-flight across every client of a connection) and one budget per Zoho organization,
which admits each request through the database's shared budget (`budget_store`, every process of the
deployment together; `zoho.shared_budget = false` keeps it to this process).
The policies are injected: `budget_config` bounds Zoho's rate limits and retries, `servicenow_retry` the
ServiceNow client's retries; tests give zero-wait ones so a failing call costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import sqlalchemy as sa

from zbsn.core.budget_store import DbBudgetStore
from zbsn.core.clock import Clock
from zbsn.core.connections import ConnectionRepository
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.settings import Settings
from zbsn.core.token_store import DbTokenStore, SecretCipher
from zbsn.core.workspace_errors import WorkspaceError
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, BudgetRegistry, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient

ORG_LESS_BUDGET = "-"  # the budget of calls that name no organization (listing organizations)
DEFAULT_SERVICENOW_RETRY = RetryPolicy()
"""The ServiceNow retry policy of a factory given none (read when the factory is built)."""


def budget_config_from(settings: Settings) -> BudgetConfig:
    """The Zoho budget the settings describe (limit per window, window length, daily cap)."""
    return BudgetConfig(
        per_window_limit=settings.zoho.per_minute_limit,
        window_s=settings.zoho.window_seconds,
        daily_limit=settings.zoho.daily_limit,
    )


def _stage_mode(mode: str) -> Literal["async_multiple", "sync_multiple", "single"]:
    if mode == "async":
        return "async_multiple"
    if mode == "single":
        return "single"
    return "sync_multiple"


class ClientFactory:
    """Builds clients for connections; caches their auth objects and the organizations' budgets."""

    def __init__(
        self,
        db_engine: sa.Engine,
        settings: Settings,
        vault: SecretCipher,
        clock: Clock,
        connections: ConnectionRepository,
        *,
        budgets: BudgetRegistry | None = None,
        budget_config: BudgetConfig | None = None,
        servicenow_retry: RetryPolicy | None = None,
    ) -> None:
        self.db_engine = db_engine
        self.settings = settings
        self.vault = vault
        self.clock = clock
        self.connections = connections
        self.shared_budget = DbBudgetStore(db_engine) if settings.zoho.shared_budget else None
        self.budgets = budgets or BudgetRegistry(self.shared_budget)
        self.budget_config = budget_config or budget_config_from(settings)
        self.servicenow_retry = servicenow_retry if servicenow_retry is not None else DEFAULT_SERVICENOW_RETRY
        self._zoho_managers: dict[int, ZohoTokenManager] = {}
        self._servicenow_auths: dict[int, ServiceNowAuth] = {}

    # -- auth objects ---------------------------------------------------------------------------------------
    def token_store(self, connection_id: int) -> DbTokenStore:
        """The encrypted token store of a connection."""
        return DbTokenStore(self.db_engine, self.vault, connection_id, self.clock)

    def zoho_token_manager(self, connection_id: int) -> ZohoTokenManager:
        """The (cached) token manager of a Zoho connection: one per connection, so its state is shared."""
        manager = self._zoho_managers.get(connection_id)
        if manager is None:
            row = self.connections.get(connection_id)
            store = self.token_store(connection_id)
            secret = store.client_secret()
            if not row.client_id or secret is None:
                raise WorkspaceError(f"Zoho connection '{row.name}' has no OAuth client: connect it again.")
            manager = ZohoTokenManager(
                store, row.client_id, secret, self.clock, self.settings.zoho.refresh_margin_seconds
            )
            self._zoho_managers[connection_id] = manager
        return manager

    def servicenow_auth(self, connection_id: int) -> ServiceNowAuth:
        """The (cached) client-credentials auth of a ServiceNow connection."""
        auth = self._servicenow_auths.get(connection_id)
        if auth is None:
            row = self.connections.get(connection_id)
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

    @property
    def zoho_managers(self) -> Mapping[int, ZohoTokenManager]:
        """The live Zoho token managers by connection id (read-only)."""
        return MappingProxyType(self._zoho_managers)

    @property
    def servicenow_auths(self) -> Mapping[int, ServiceNowAuth]:
        """The live ServiceNow auth objects by connection id (read-only)."""
        return MappingProxyType(self._servicenow_auths)

    def forget_auth(self, connection_id: int) -> None:
        """Drop the cached auth object of one connection (its OAuth client changed)."""
        self._zoho_managers.pop(connection_id, None)
        self._servicenow_auths.pop(connection_id, None)

    def forget(self) -> None:
        """Drop every cached auth object and budget (their locks belong to the loop that used them)."""
        self._zoho_managers.clear()
        self._servicenow_auths.clear()
        self.budgets = BudgetRegistry(self.budgets.shared)

    # -- clients --------------------------------------------------------------------------------------------
    def zoho_budget(self, organization_id: str) -> OrgBudget:
        """The budget shared by every client of this organization from this factory."""
        return self.budgets.get(organization_id, self.budget_config, clock=self.clock)

    def zoho_client(self, connection_id: int, organization_id: str) -> ZohoBooksClient:
        """A Zoho Books client for one organization of a connection (the caller closes it)."""
        row = self.connections.get(connection_id)
        return ZohoBooksClient(
            organization_id=organization_id,
            tokens=self.zoho_token_manager(connection_id),
            budget=self.zoho_budget(organization_id),
            api_domain=row.api_domain,
            clock=self.clock,
        )

    def zoho_organizations_client(self, connection_id: int) -> ZohoBooksClient:
        """A Zoho Books client for calls that name no organization (listing them; the caller closes it).

        Once the connection has its organization, these calls go through that org's budget: [I] Zoho counts
        them against an org too (the sandbox against its one org), and a reconnect must not push a running
        sync over the limit. Before that, see `charge_organizations`.
        """
        row = self.connections.get(connection_id)
        return ZohoBooksClient(
            organization_id="",
            tokens=self.zoho_token_manager(connection_id),
            budget=self.zoho_budget(row.organization_id or ORG_LESS_BUDGET),
            clock=self.clock,
        )

    def charge_organizations(self, client: ZohoBooksClient, organization_ids: list[str]) -> None:
        """Count the requests an org-less client made (before any org was chosen) in the shared window of
        each org it listed, so a sync of one of them a few seconds later knows of them (issue 18)."""
        store = self.budgets.shared
        if client.budget.organization_id != ORG_LESS_BUDGET or client.request_count == 0:
            return
        if isinstance(store, DbBudgetStore):
            store.charge(organization_ids, client.request_count, self.budget_config.window_s)

    def servicenow_client(self, connection_id: int) -> ServiceNowClient:
        """A ServiceNow client for a connection's instance, with the factory's retry policy (the caller
        closes it)."""
        row = self.connections.get(connection_id)
        assert row.instance_url is not None
        return ServiceNowClient(
            row.instance_url,
            self.servicenow_auth(connection_id),
            batch_size=self.settings.servicenow.batch_size,
            stage_mode=_stage_mode(self.settings.servicenow.insert_multiple_mode),
            retry=self.servicenow_retry,
            clock=self.clock,
        )


__all__ = ["DEFAULT_SERVICENOW_RETRY", "ORG_LESS_BUDGET", "ClientFactory", "budget_config_from"]
