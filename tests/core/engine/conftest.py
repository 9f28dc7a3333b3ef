"""Fixtures: both sandboxes on loopback sockets (module-scoped, reset per test) and real clients of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SN_CLIENT_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_CLIENT_SECRET
from zbsn.sandbox.servicenow import ServiceNowSandbox, create_servicenow_sandbox
from zbsn.sandbox.zoho import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)
from zbsn.sandbox.zoho.config import RateLimits

from .harness import ClientFactories, Endpoints, authorize_zoho, create_profile

SEED = 7
BILLS = 200


def company() -> Company:
    """The seeded demo company (each sandbox gets its own copy)."""
    return generate_company(SEED, BILLS)


@dataclass
class Sandboxes:
    zoho: ZohoSandbox
    servicenow: ServiceNowSandbox
    endpoints: Endpoints

    def reset(self) -> None:
        """Fresh data on both sides (tokens survive on the Zoho side)."""
        self.zoho.reset(company=company())
        self.servicenow.reset()


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    """Both sandboxes serving the seeded company, authorised through their OAuth flows."""
    zoho = create_zoho_sandbox(company(), SandboxConfig(limits=RateLimits(enabled=False))).start()
    servicenow = create_servicenow_sandbox(company()).start()
    try:
        tokens = authorize_zoho(
            zoho.accounts_url, zoho.self_client_code(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        )
        endpoints = Endpoints(
            zoho_accounts_url=zoho.accounts_url,
            zoho_api_domain=zoho.api_domain,
            servicenow_url=servicenow.url,
            zoho_tokens=tokens,
            zoho_client_id=DEMO_CLIENT_ID,
            zoho_client_secret=DEMO_CLIENT_SECRET,
            servicenow_client_id=SN_CLIENT_ID,
            servicenow_client_secret=SN_CLIENT_SECRET,
        )
        yield Sandboxes(zoho, servicenow, endpoints)
    finally:
        zoho.stop()
        servicenow.stop()


@pytest.fixture
def live(sandboxes: Sandboxes) -> Sandboxes:
    """The sandboxes, reset to the seeded company for this test."""
    sandboxes.reset()
    return sandboxes


@pytest.fixture
def factories(live: Sandboxes) -> ClientFactories:
    return ClientFactories(live.endpoints)


@pytest.fixture
def profile_id(sqlite_engine: sa.Engine, live: Sandboxes) -> int:
    return create_profile(sqlite_engine, live.endpoints)
