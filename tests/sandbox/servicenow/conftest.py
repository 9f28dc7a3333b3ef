"""Fixtures: a running ServiceNow sandbox per test module, and an authenticated httpx client against it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from zbsn.core.clock import OffsetClock
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ServiceNowSandbox,
    create_servicenow_sandbox,
)


@pytest.fixture(scope="module")
def company() -> Company:
    """A small deterministic company (the generator's master data, few bills)."""
    return generate_company(seed=7, bills=10)


@pytest.fixture(scope="module")
def sandbox(company: Company) -> Iterator[ServiceNowSandbox]:
    """One running instance per test module."""
    instance = create_servicenow_sandbox(company).start()
    yield instance
    instance.stop()


def fetch_token(base_url: str, **extra: str) -> httpx.Response:
    """A client-credentials token request (fields overridable)."""
    data = {
        "grant_type": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    data.update(extra)
    return httpx.post(f"{base_url}/oauth_token.do", data=data)


@pytest.fixture(scope="module")
def api(sandbox: ServiceNowSandbox) -> Iterator[httpx.Client]:
    """An httpx client with a valid bearer token."""
    token = fetch_token(sandbox.url).json()["access_token"]
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def fresh(company: Company) -> Iterator[tuple[ServiceNowSandbox, httpx.Client]]:
    """A sandbox of its own (for tests that move its clock or change its settings) and a client of it."""
    instance = create_servicenow_sandbox(company, clock=OffsetClock()).start()
    instance.set_token_lifespan(30 * 86400)  # the tests move the clock by days; the token outlives that
    token = fetch_token(instance.url).json()["access_token"]
    try:
        with httpx.Client(base_url=instance.url, headers={"Authorization": f"Bearer {token}"}) as client:
            yield instance, client
    finally:
        instance.stop()
