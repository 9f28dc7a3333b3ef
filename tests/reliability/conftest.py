"""Fixtures for the reliability tests: both sandboxes on loopback sockets, sized per test, real clients.

The sandboxes are module-scoped; `world(bills)` reseeds both with the seeded demo company of that size and
clears every fault knob, so each test starts clean and injects only its own trouble.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.core.engine.expectations import Expected
from tests.core.engine.harness import FAST_BUDGET, FAST_RETRY, ORG_ID, Endpoints, authorize_zoho
from zbsn.core.clock import OffsetClock, SystemClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.db.models import SyncProfile
from zbsn.core.engine.runner import SyncRunner
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.tls import tls_context
from zbsn.core.tokens import MemoryTokenStore
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SN_CLIENT_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_CLIENT_SECRET
from zbsn.sandbox.servicenow import FaultConfig as SnFaults
from zbsn.sandbox.servicenow import ServiceNowSandbox, create_servicenow_sandbox
from zbsn.sandbox.zoho import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)
from zbsn.sandbox.zoho.config import RateLimits

SEED = 7


@dataclass
class World:
    """Both sandboxes, the endpoints that reach them and the company they serve."""

    zoho: ZohoSandbox
    servicenow: ServiceNowSandbox
    endpoints: Endpoints
    company: Company

    @property
    def expected(self) -> Expected:
        return Expected(self.company)

    def zoho_total_of_good_bills(self) -> Decimal:
        """Zoho's own totals (as the sandbox serves them) of the bills that must be staged."""
        totals = self.zoho.state.totals
        return sum((totals[b.bill_id] for b in self.expected.good_bills), Decimal(0))


def reseed(zoho: ZohoSandbox, servicenow: ServiceNowSandbox, bills: int) -> Company:
    """Both sandboxes back to the seeded company of `bills` bills, with no faults and no limits."""
    company = generate_company(SEED, bills)
    zoho.reset(company=generate_company(SEED, bills))
    zoho.set_faults(fault_rate=0.0, kinds={}, latency_ms=0, seed=0)
    zoho.set_limits(enabled=False)
    servicenow.company = company
    servicenow.reset()
    servicenow.set_faults(SnFaults())
    servicenow.set_rate_limits([])
    servicenow.set_client_credentials(True)
    return company


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[tuple[ZohoSandbox, ServiceNowSandbox]]:
    zoho = create_zoho_sandbox(generate_company(SEED, 50), SandboxConfig(limits=RateLimits(enabled=False)))
    servicenow = create_servicenow_sandbox(generate_company(SEED, 50))
    zoho.start()
    servicenow.start()
    try:
        yield zoho, servicenow
    finally:
        zoho.stop()
        servicenow.stop()


@pytest.fixture
def world(sandboxes: tuple[ZohoSandbox, ServiceNowSandbox]) -> Callable[[int], World]:
    """`world(bills)`: fresh data of that size on both sides, and a freshly consented Zoho connection."""
    zoho, servicenow = sandboxes
    return lambda bills: make_world(zoho, servicenow, bills)


def make_world(zoho: ZohoSandbox, servicenow: ServiceNowSandbox, bills: int) -> World:
    """Reseed both sandboxes with `bills` bills and consent a fresh Zoho connection (any fixture scope)."""
    company = reseed(zoho, servicenow, bills)
    tokens = authorize_zoho(zoho.accounts_url, zoho.self_client_code(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
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
    return World(zoho, servicenow, endpoints, company)


@functools.cache
def _migrated_template() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="zbsn-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


def fresh_sqlite(directory: str | Path) -> sa.Engine:
    """A migrated SQLite database in `directory`, copied from one migrated once per process.

    The fuzzers start thousands of runs on an empty database; running the migrations for each was a sixth
    of an example's time.
    """
    path = Path(directory) / "fuzz.db"
    shutil.copyfile(_migrated_template(), path)
    return make_engine(f"sqlite:///{path}")


@pytest.fixture
def sqlite_db(tmp_path: object) -> Iterator[tuple[str, sa.Engine]]:
    """A migrated SQLite file database (URL and engine)."""
    url = f"sqlite:///{tmp_path}/reliability.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield url, engine
    engine.dispose()


@dataclass
class Clients:
    """Builds the real clients of the sandboxes with chosen retry/timeout knobs (one per run)."""

    endpoints: Endpoints
    zoho_budget: BudgetConfig = FAST_BUDGET
    sn_retry: RetryPolicy = FAST_RETRY
    zoho_timeout_s: float = 30.0
    sn_timeout_s: float = 30.0
    zoho_store: MemoryTokenStore | None = None
    built: list[Any] = field(default_factory=list)

    def zoho(self, profile: SyncProfile) -> ZohoBooksClient:
        store = self.zoho_store or MemoryTokenStore(self.endpoints.zoho_tokens)
        manager = ZohoTokenManager(store, self.endpoints.zoho_client_id, self.endpoints.zoho_client_secret)
        client = ZohoBooksClient(
            organization_id=ORG_ID,
            tokens=manager,
            budget=OrgBudget(ORG_ID, self.zoho_budget),
            api_domain=self.endpoints.zoho_api_domain,
            http=httpx.AsyncClient(timeout=self.zoho_timeout_s, verify=tls_context()),
        )
        client._owns_http = True  # closed by the runner's aclose() like a client-made one
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
            retry=self.sn_retry,
            poll_interval_s=0.01,
            poll_timeout_s=60,
            timeout_s=self.sn_timeout_s,
        )
        self.built.append(client)
        return client

    def runner(self, db: sa.Engine, **options: Any) -> SyncRunner:
        options.setdefault("batch_size", 50)
        options.setdefault("detail_concurrency", 4)
        return SyncRunner(db, self.zoho, self.servicenow, SystemClock(), **options)
