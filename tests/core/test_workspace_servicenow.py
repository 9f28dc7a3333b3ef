"""Workspace and the ServiceNow sandbox: connect with client credentials, test, token state, encryption."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from zbsn.core.servicenow.errors import ServiceNowServerError
from zbsn.core.settings import Settings
from zbsn.core.vault import KeySource, Vault, generate_key
from zbsn.core.workspace import Workspace
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    FaultConfig,
    ServiceNowSandbox,
    create_servicenow_sandbox,
)

from .conftest import NO_WAIT_RETRY


@pytest.fixture(scope="module")
def servicenow() -> Iterator[ServiceNowSandbox]:
    sandbox = create_servicenow_sandbox(generate_company(seed=7, bills=60))
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def workspace(sqlite_engine: sa.Engine) -> Workspace:
    return Workspace(
        sqlite_engine, Settings(), Vault(generate_key(), KeySource.FILE), servicenow_retry=NO_WAIT_RETRY
    )


async def test_connect_and_test(workspace: Workspace, servicenow: ServiceNowSandbox) -> None:
    servicenow.set_client_credentials(True)
    connection_id, result = await workspace.connect_servicenow(
        servicenow.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    assert result.ok, result.message
    assert result.legal_entities is not None
    assert result.legal_entities >= 1
    status = workspace.token_status(connection_id)
    assert status.state == "ok"
    assert status.expires_in_s is not None
    assert 1700 < status.expires_in_s <= 1800
    view = workspace.get_connection(connection_id)
    assert view.state == "connected"
    assert view.instance_url == servicenow.url
    with workspace.db_engine.connect() as conn:
        raw = repr(conn.execute(sa.text("SELECT * FROM connection")).all())
    assert DEMO_CLIENT_SECRET not in raw


async def test_wrong_secret_says_reauthorise(workspace: Workspace, servicenow: ServiceNowSandbox) -> None:
    connection_id, result = await workspace.connect_servicenow(servicenow.url, DEMO_CLIENT_ID, "not-it")
    assert not result.ok
    assert "client-credentials" in result.message
    assert "not-it" not in result.message
    assert workspace.token_status(connection_id).state == "reauthorise"
    assert workspace.get_connection(connection_id).state == "reauth"


async def test_unreachable_instance_is_an_error(workspace: Workspace) -> None:
    connection_id, result = await workspace.connect_servicenow("http://127.0.0.1:9", "id", "secret")
    assert not result.ok
    assert workspace.get_connection(connection_id).state == "error"
    workspace.forget_clients()  # as a fresh console would see it: from the row alone
    status = workspace.token_status(connection_id)
    assert status.state == "not connected"
    assert status.message


async def test_the_injected_retry_policy_reaches_the_client(
    sqlite_engine: sa.Engine, servicenow: ServiceNowSandbox
) -> None:
    three_tries = replace(NO_WAIT_RETRY, attempts=3)
    workspace = Workspace(
        sqlite_engine, Settings(), Vault(generate_key(), KeySource.FILE), servicenow_retry=three_tries
    )
    servicenow.set_client_credentials(True)
    connection_id, result = await workspace.connect_servicenow(
        servicenow.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    assert result.ok, result.message
    workspace.forget_clients()  # the next client mints a token again
    servicenow.set_faults(FaultConfig(fault_rate=1.0, kinds=("503",)))
    try:
        async with workspace.servicenow_client_for_connection(connection_id) as client:
            with pytest.raises(ServiceNowServerError):
                await client.list_legal_entities()
    finally:
        servicenow.set_faults(FaultConfig())
    assert client.request_count == 3  # the default policy makes 10 attempts


async def test_preflight_names_what_the_instance_lacks(
    workspace: Workspace, servicenow: ServiceNowSandbox
) -> None:
    servicenow.set_client_credentials(True)
    connection_id, _result = await workspace.connect_servicenow(
        servicenow.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )

    ready = await workspace.preflight(connection_id)
    assert (ready.ok, ready.problems, ready.error) == (True, [], None)
    assert ready.instance_url == servicenow.url
    assert "import_transformer" in (ready.roles or [])

    servicenow.remove_column("sn_spend_intg_imp_invoice_line", "u_gl_account")
    servicenow.remove_transform_map("sn_spend_intg_imp_invoice_payment_detail")
    try:
        blocked = await workspace.preflight(connection_id)
    finally:
        servicenow.restore_column("sn_spend_intg_imp_invoice_line", "u_gl_account")
        servicenow.restore_transform_map("sn_spend_intg_imp_invoice_payment_detail")
    assert not blocked.ok
    assert blocked.error is None
    assert blocked.problems == [
        "sn_spend_intg_imp_invoice_line lacks column(s) zbsn needs: u_gl_account",
        "no active transform map reads sn_spend_intg_imp_invoice_payment_detail: staged rows would stay "
        "pending (create or activate its map)",
    ]
    assert DEMO_CLIENT_SECRET not in repr(blocked)


async def test_preflight_without_fx_rate_staging_is_ready_with_a_warning(
    workspace: Workspace, servicenow: ServiceNowSandbox
) -> None:
    """FX rate staging fails only foreign-currency bills: the connection is ready."""
    servicenow.set_client_credentials(True)
    connection_id, _result = await workspace.connect_servicenow(
        servicenow.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    servicenow.remove_transform_map("sn_fcms_intg_fx_rate_stage")
    try:
        check = await workspace.preflight(connection_id)
    finally:
        servicenow.restore_transform_map("sn_fcms_intg_fx_rate_stage")
    assert (check.ok, check.problems) == (True, [])
    assert check.warnings[0] == (
        "foreign-currency bills will fail until this is fixed: no active transform map reads "
        "sn_fcms_intg_fx_rate_stage: staged rows would stay pending (create or activate its map)"
    )


async def test_preflight_of_an_unreachable_instance_says_why(workspace: Workspace) -> None:
    connection_id, _result = await workspace.connect_servicenow("http://127.0.0.1:9", "id", "never-shown")
    check = await workspace.preflight(connection_id)
    assert not check.ok
    assert check.error
    assert "never-shown" not in repr(check)
