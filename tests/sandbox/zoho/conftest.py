"""Fixtures: Zoho sandboxes served on loopback, and helpers to get tokens and call the API over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from zbsn.sandbox.zoho import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)


def exchange_code(sandbox: ZohoSandbox, code: str, accounts_url: str | None = None) -> dict[str, Any]:
    """POST the code to the token endpoint; return the JSON body."""
    response = httpx.post(
        (accounts_url or sandbox.accounts_url) + "/oauth/v2/token",
        params={
            "grant_type": "authorization_code",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "code": code,
        },
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def new_tokens(sandbox: ZohoSandbox) -> dict[str, Any]:
    """A fresh refresh + access token pair via a Self Client code."""
    body = exchange_code(sandbox, sandbox.self_client_code())
    assert "access_token" in body, body
    return body


def refresh(sandbox: ZohoSandbox, refresh_token: str, accounts_url: str | None = None) -> httpx.Response:
    """The refresh grant, form-encoded."""
    return httpx.post(
        (accounts_url or sandbox.accounts_url) + "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": refresh_token,
        },
    )


class Books:
    """A tiny HTTP helper bound to one sandbox and token."""

    def __init__(self, sandbox: ZohoSandbox, token: str, base: str | None = None) -> None:
        self.sandbox = sandbox
        self.token = token
        self.base = base or sandbox.books_base
        # No kept-alive connections: each request closes its socket, so a helper that is simply dropped
        # leaves nothing open for the garbage collector to warn about.
        self.client = httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))

    def get(self, path: str, **params: Any) -> httpx.Response:
        params.setdefault("organization_id", self.sandbox.organization_id)
        return self.client.get(self.base + path, params=params, headers=self.headers())

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Zoho-oauthtoken {self.token}"}


def start(config: SandboxConfig | None = None) -> ZohoSandbox:
    return create_zoho_sandbox(config=config or SandboxConfig()).start()


@pytest.fixture(scope="module")
def shared() -> Iterator[ZohoSandbox]:
    """One sandbox per module for read-only tests (org in the EU DC, 200 bills)."""
    sandbox = start(SandboxConfig(org_dc="eu", bills=200))
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def books(shared: ZohoSandbox) -> Books:
    """An authenticated API helper against the shared sandbox."""
    return Books(shared, new_tokens(shared)["access_token"])


@pytest.fixture
def fresh() -> Iterator[ZohoSandbox]:
    """A sandbox of its own, for tests that change clock, limits, faults or data."""
    sandbox = start(SandboxConfig(org_dc="eu", bills=60))
    yield sandbox
    sandbox.stop()
