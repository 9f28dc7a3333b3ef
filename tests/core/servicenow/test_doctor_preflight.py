"""`zbsn doctor` runs the pre-flight of every ServiceNow connection and names what the instance lacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zbsn.core.cli.main import app
from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ServiceNowSandbox,
    create_servicenow_sandbox,
)

from .conftest import INVOICE

runner = CliRunner()


@pytest.fixture
def connected(company: Company, tmp_path: Path) -> Iterator[tuple[ServiceNowSandbox, str]]:
    """A sandbox and a database with a ServiceNow connection to it (through `zbsn connect servicenow`)."""
    sandbox = create_servicenow_sandbox(company).start()
    db = f"sqlite:///{tmp_path / 'doctor.db'}"
    try:
        done = runner.invoke(
            app,
            ["--db", db, "connect", "servicenow", "--instance", sandbox.url, "--client-id", DEMO_CLIENT_ID,
             "--client-secret", DEMO_CLIENT_SECRET],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        yield sandbox, db
    finally:
        sandbox.stop()


def test_doctor_reports_a_ready_instance(connected: tuple[ServiceNowSandbox, str]) -> None:
    sandbox, db = connected
    result = runner.invoke(app, ["--db", db, "doctor", "--json"])
    assert result.exit_code == 0, result.stdout
    (section,) = json.loads(result.stdout)["servicenow"]
    assert section["ok"] is True
    assert section["instance_url"] == sandbox.url
    assert section["problems"] == []
    assert "import_transformer" in section["roles"]
    text = runner.invoke(app, ["--db", db, "doctor"])
    assert ": ready" in text.stdout
    assert DEMO_CLIENT_SECRET not in text.stdout + result.stdout


def test_doctor_names_what_the_instance_lacks(connected: tuple[ServiceNowSandbox, str]) -> None:
    sandbox, db = connected
    sandbox.remove_transform_map(INVOICE)
    sandbox.remove_column("sn_spend_intg_imp_invoice_line", "u_cost_center")
    result = runner.invoke(app, ["--db", db, "doctor", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (section,) = report["servicenow"]
    assert section["ok"] is False
    assert any(f"no active transform map reads {INVOICE}" in p for p in report["problems"])
    assert any("lacks column(s) zbsn needs: u_cost_center" in p for p in report["problems"])
    assert all(p.startswith("ServiceNow '") for p in report["problems"])  # each names its connection
    text = runner.invoke(app, ["--db", db, "doctor"])
    assert "not ready" in text.stdout
    assert "problem: ServiceNow '" in text.stdout


def test_doctor_reports_an_unreachable_instance(connected: tuple[ServiceNowSandbox, str]) -> None:
    sandbox, db = connected
    sandbox.stop()
    result = runner.invoke(app, ["--db", db, "doctor", "--json"])
    assert result.exit_code == 1
    (section,) = json.loads(result.stdout)["servicenow"]
    assert section["error"]
    assert section["ok"] is False
    assert any("the pre-flight could not run" in p for p in json.loads(result.stdout)["problems"])
