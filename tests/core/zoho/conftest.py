"""Fixtures for the Zoho client tests: a fake Zoho over MockTransport and a connected token manager."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.core.zoho.fakes import ACCOUNTS, API, ORG, FakeZoho
from zbsn.core.clock import OffsetClock
from zbsn.core.tokens import MemoryTokenStore, TokenSet
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient

FAST_RETRIES = BudgetConfig(
    retry_wait_initial_s=0.001, retry_wait_max_s=0.005, concurrency_retry_s=0.001, pace_evenly=False
)


@pytest.fixture
def fake() -> FakeZoho:
    return FakeZoho()


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
def store(fake: FakeZoho, clock: OffsetClock) -> MemoryTokenStore:
    """Tokens as left by a consent in the EU DC: a live access token with 60 minutes to go."""
    return MemoryTokenStore(
        TokenSet(
            access_token=fake.mint(),
            expires_at=clock.now() + timedelta(hours=1),
            refresh_token="1000.refresh",
            api_domain=API,
            accounts_server=ACCOUNTS,
            dc="eu",
        )
    )


@pytest.fixture
async def manager(
    fake: FakeZoho, store: MemoryTokenStore, clock: OffsetClock
) -> AsyncIterator[ZohoTokenManager]:
    http = fake.client()
    yield ZohoTokenManager(store, "1000.client", "secret", clock, http=http)
    await http.aclose()


@pytest.fixture
async def client(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> AsyncIterator[ZohoBooksClient]:
    budget = OrgBudget(ORG, FAST_RETRIES, clock=clock)
    async with ZohoBooksClient(
        organization_id=ORG, tokens=manager, budget=budget, http=fake.client(), clock=clock
    ) as books:
        yield books
