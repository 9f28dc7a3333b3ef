"""Shared by the engine's e2e tests, its crash-test child and the benchmark: sandboxes, clients, profile rows.

The sandboxes run in one process (the test's); a child process reaches them through their URLs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from zbsn.core.clock import OffsetClock, SystemClock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, SyncProfile
from zbsn.core.engine.runner import SyncRunner
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.tokens import MemoryTokenStore, TokenSet
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient

ORG_ID = "20098765432"
LEGAL_ENTITY = "NWA-UK"
FAST_BUDGET = BudgetConfig(
    per_window_limit=100_000,
    window_s=1.0,
    max_concurrency=10,
    retry_wait_initial_s=0.01,
    retry_wait_max_s=0.05,
    concurrency_retry_s=0.01,
)
FAST_RETRY = RetryPolicy(attempts=8, wait_initial_s=0.01, wait_max_s=0.05, wait_jitter_s=0.01)


@dataclass
class Endpoints:
    """Where the sandboxes listen and the tokens to reach them (picklable: passed to a child process)."""

    zoho_accounts_url: str
    zoho_api_domain: str
    servicenow_url: str
    zoho_tokens: TokenSet
    zoho_client_id: str
    zoho_client_secret: str
    servicenow_client_id: str
    servicenow_client_secret: str


@dataclass
class ClientFactories:
    """Builds real clients of the sandboxes, one per run, counting what it built."""

    endpoints: Endpoints
    stage_mode: str = "async_multiple"
    built: list[Any] = field(default_factory=list)

    def zoho(self, profile: SyncProfile) -> ZohoBooksClient:
        store = MemoryTokenStore(self.endpoints.zoho_tokens)
        manager = ZohoTokenManager(store, self.endpoints.zoho_client_id, self.endpoints.zoho_client_secret)
        client = ZohoBooksClient(
            organization_id=ORG_ID,
            tokens=manager,
            budget=OrgBudget(ORG_ID, FAST_BUDGET),
            api_domain=self.endpoints.zoho_api_domain,
        )
        self.built.append(client)
        return client

    def servicenow(self, profile: SyncProfile) -> ServiceNowClient:
        auth = ServiceNowAuth(
            self.endpoints.servicenow_url,
            self.endpoints.servicenow_client_id,
            self.endpoints.servicenow_client_secret,
            MemoryTokenStore(),
            OffsetClock(),
        )
        client = ServiceNowClient(
            self.endpoints.servicenow_url,
            auth,
            retry=FAST_RETRY,
            poll_interval_s=0.01,
            poll_timeout_s=60,
            stage_mode=self.stage_mode,
        )  # type: ignore[arg-type]
        self.built.append(client)
        return client


async def authorize_zoho_async(accounts_url: str, code: str, client_id: str, client_secret: str) -> TokenSet:
    """Exchange a Self Client code for tokens."""
    manager = ZohoTokenManager(MemoryTokenStore(), client_id, client_secret)
    return await manager.authorize_self_client(accounts_url, code)


def authorize_zoho(accounts_url: str, code: str, client_id: str, client_secret: str) -> TokenSet:
    """The same, outside any event loop."""
    return asyncio.run(authorize_zoho_async(accounts_url, code, client_id, client_secret))


def bare_profile(db: sa.Engine) -> int:
    """A profile over two unconfigured connections: enough for the audit log, locks and mappings."""
    with session_scope(db) as session:
        zoho, sn = Connection(kind="zoho", name="z"), Connection(kind="servicenow", name="s")
        session.add_all([zoho, sn])
        session.flush()
        assert zoho.id is not None
        assert sn.id is not None
        profile = SyncProfile(name="p", zoho_connection_id=zoho.id, servicenow_connection_id=sn.id)
        session.add(profile)
        session.flush()
        assert profile.id is not None
        return profile.id


def create_profile(
    db: sa.Engine, endpoints: Endpoints, *, allow_supplier_create: bool = False, name: str = "Northwind"
) -> int:
    """The two connections and a profile pairing them (the demo org's settings)."""
    with session_scope(db) as session:
        zoho = Connection(
            kind="zoho",
            name=f"{name}-zoho",
            state="connected",
            organization_id=ORG_ID,
            time_zone="Europe/London",
            currency_code="GBP",
            api_domain=endpoints.zoho_api_domain,
        )
        servicenow = Connection(
            kind="servicenow", name=f"{name}-sn", state="connected", instance_url=endpoints.servicenow_url
        )
        session.add(zoho)
        session.add(servicenow)
        session.flush()
        assert zoho.id is not None
        assert servicenow.id is not None
        profile = SyncProfile(
            name=name,
            zoho_connection_id=zoho.id,
            servicenow_connection_id=servicenow.id,
            legal_entity=LEGAL_ENTITY,
            allow_supplier_create=allow_supplier_create,
        )
        session.add(profile)
        session.flush()
        assert profile.id is not None
        return profile.id


def make_runner(db: sa.Engine, factories: ClientFactories, **options: Any) -> SyncRunner:
    """A runner over the sandboxes' real clients."""
    return SyncRunner(db, factories.zoho, factories.servicenow, SystemClock(), **options)
