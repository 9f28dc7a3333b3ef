"""`zbsn connect` against both sandboxes: JSON results without secrets, exit codes for refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zbsn.core.cli.main import app
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SN_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_SECRET
from zbsn.sandbox.servicenow import ServiceNowSandbox, create_servicenow_sandbox
from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ZohoSandbox, create_zoho_sandbox

runner = CliRunner()


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[tuple[ZohoSandbox, ServiceNowSandbox]]:
    company = generate_company(seed=7, bills=20)
    with create_zoho_sandbox(company) as zoho:
        servicenow = create_servicenow_sandbox(company)
        servicenow.start()
        yield zoho, servicenow
        servicenow.stop()


def test_connect_both_systems(sandboxes: tuple[ZohoSandbox, ServiceNowSandbox], tmp_path: Path) -> None:
    zoho, servicenow = sandboxes
    db = f"sqlite:///{tmp_path / 'connect.db'}"
    code = zoho.self_client_code()
    result = runner.invoke(
        app,
        ["--db", db, "connect", "zoho", "--client-id", DEMO_CLIENT_ID, "--self-client-code", code,
         "--accounts-server", zoho.accounts_url, "--json"],
        env={"ZBSN_CLIENT_SECRET": DEMO_CLIENT_SECRET},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    connected = json.loads(result.stdout)
    assert connected["api_domain"] == zoho.api_domain
    assert connected["chosen"]["organization_id"] == zoho.organization_id
    assert DEMO_CLIENT_SECRET not in result.stdout

    sn = runner.invoke(
        app,
        ["--db", db, "connect", "servicenow", "--instance", servicenow.url, "--client-id", SN_ID],
        input=f"{SN_SECRET}\n",  # typed at the hidden prompt
    )
    assert sn.exit_code == 0, sn.output
    assert "Connected" in sn.stdout
    assert SN_SECRET not in sn.output

    refused = runner.invoke(
        app,
        ["--db", db, "connect", "servicenow", "--instance", servicenow.url, "--client-id", SN_ID,
         "--client-secret", "wrong-secret"],
    )  # fmt: skip
    assert refused.exit_code == 3, refused.output

    reused = runner.invoke(
        app,
        ["--db", db, "connect", "zoho", "--client-id", DEMO_CLIENT_ID, "--client-secret", DEMO_CLIENT_SECRET,
         "--self-client-code", code, "--accounts-server", zoho.accounts_url],
    )  # fmt: skip
    assert reused.exit_code == 3, reused.output  # a used grant code: consent again


def test_connect_then_profile_and_schedule(
    sandboxes: tuple[ZohoSandbox, ServiceNowSandbox], tmp_path: Path
) -> None:
    zoho, servicenow = sandboxes
    db = f"sqlite:///{tmp_path / 'profile.db'}"
    assert runner.invoke(app, ["--db", db, "profile", "create", "p"]).exit_code == 2  # nothing connected yet
    zoho_args = ["--client-id", DEMO_CLIENT_ID, "--client-secret", DEMO_CLIENT_SECRET]
    code = zoho.self_client_code()
    connected = runner.invoke(
        app,
        ["--db", db, "connect", "zoho", *zoho_args, "--self-client-code", code,
         "--accounts-server", zoho.accounts_url],
    )  # fmt: skip
    assert connected.exit_code == 0, connected.output
    sn_args = ["--instance", servicenow.url, "--client-id", SN_ID, "--client-secret", SN_SECRET]
    assert runner.invoke(app, ["--db", db, "connect", "servicenow", *sn_args]).exit_code == 0

    created = runner.invoke(
        app, ["--db", db, "profile", "create", "Northwind", "--legal-entity", "NWA-UK", "--json"]
    )
    assert created.exit_code == 0, created.output
    profile = json.loads(created.stdout)
    assert profile["organization_id"] == zoho.organization_id
    assert profile["instance_url"] == servicenow.url
    assert runner.invoke(app, ["--db", db, "profile", "create", "Northwind"]).exit_code == 2  # name taken

    added = runner.invoke(app, ["--db", db, "schedule", "add", "0 6 * * 1-5", "--json"])
    assert added.exit_code == 0, added.output
    schedule = json.loads(added.stdout)
    assert schedule["profile_id"] == profile["id"]
    assert "Monday through Friday" in schedule["description"]
    assert schedule["next_run_at"]
    bad = runner.invoke(app, ["--db", db, "schedule", "add", "0 25 * * *"])
    assert bad.exit_code == 2
    assert "hour field" in bad.output
    disabled = runner.invoke(app, ["--db", db, "schedule", "disable", str(schedule["id"]), "--json"])
    assert json.loads(disabled.stdout)["next_run_at"] is None
