"""Workspace and the Zoho sandbox: auth-code consent over a real loopback redirect, and Self Client codes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from zbsn.core.settings import Settings
from zbsn.core.vault import KeySource, Vault, generate_key
from zbsn.core.workspace import Workspace
from zbsn.sandbox.zoho import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)


@pytest.fixture(scope="module")
def zoho() -> Iterator[ZohoSandbox]:
    with create_zoho_sandbox(config=SandboxConfig(org_dc="eu", seed=7, bills=40)) as sandbox:
        yield sandbox


@pytest.fixture
def workspace(sqlite_engine: sa.Engine) -> Workspace:
    return Workspace(sqlite_engine, Settings(), Vault(generate_key(), KeySource.FILE))


async def _follow(url: str) -> None:
    """Play the browser: the sandbox auto-approves consent and redirects to the loopback catcher."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        await browser.get(url)


async def test_auth_code_flow_learns_the_dc_from_the_redirect(
    workspace: Workspace, zoho: ZohoSandbox
) -> None:
    shown: list[str] = []
    result = await workspace.connect_zoho_auth_code(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        accounts_server=zoho.dc_urls("us").accounts_url,  # start at the US server, as real Zoho does
        open_url=_follow,
        port=0,
        on_consent_url=shown.append,
        timeout_s=20,
    )
    assert shown
    assert shown[0].startswith(zoho.dc_urls("us").accounts_url)
    assert result.dc == "eu"
    assert result.accounts_server == zoho.accounts_url
    assert result.api_domain == zoho.api_domain
    assert result.chosen is not None
    assert result.chosen.organization_id == zoho.organization_id
    view = workspace.get_connection(result.connection_id)
    assert view.organization_id == zoho.organization_id
    assert view.time_zone
    assert view.currency_code
    assert view.has_refresh_token
    status = workspace.token_status(result.connection_id)
    assert status.state == "ok"
    assert status.expires_in_s is not None
    assert status.expires_in_s > 3000
    with workspace.db_engine.connect() as conn:
        raw = repr(conn.execute(sa.text("SELECT * FROM connection")).all())
    assert DEMO_CLIENT_SECRET not in raw
    tokens = workspace.token_store(result.connection_id).load_sync()
    assert tokens is not None
    assert tokens.refresh_token is not None
    assert tokens.refresh_token not in raw


async def test_self_client_code(workspace: Workspace, zoho: ZohoSandbox) -> None:
    code = zoho.self_client_code()
    result = await workspace.connect_zoho_self_client(
        code, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, zoho.accounts_url, name="Books EU"
    )
    assert result.accounts_server == zoho.accounts_url  # loopback URLs name no real DC, so dc stays None
    assert result.api_domain == zoho.api_domain
    assert result.chosen is not None
    assert workspace.get_connection(result.connection_id).name == "Books EU"


async def test_reused_code_needs_reauthorisation(workspace: Workspace, zoho: ZohoSandbox) -> None:
    from zbsn.core.workspace import classify_error

    code = zoho.self_client_code()
    await workspace.connect_zoho_self_client(code, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, zoho.accounts_url)
    with pytest.raises(Exception) as caught:
        await workspace.connect_zoho_self_client(code, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, zoho.accounts_url)
    assert classify_error(caught.value) == "reauthorise"
