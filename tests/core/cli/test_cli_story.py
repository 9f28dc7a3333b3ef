"""The operator's whole story through the `zbsn` CLI alone, against `zbsn sandbox` in its own process.

Every step is a `zbsn` subprocess on one SQLite file, as an operator (or a cron job) would run it: connect
Zoho Books with a self-client code, connect ServiceNow, create a profile, preview (the two cost centers
ServiceNow lacks are listed with the bills they block), sync (those bills fail with the reason), the AP team
creates the cost centers (`zbsn sandbox create-cost-center`), replay every failure, reconcile, add a
schedule; every later command finds what the earlier ones stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.external_sandbox import ExternalSandbox

EXIT_OK, EXIT_FAILURES = 0, 1


@pytest.fixture
def sandbox(external_sandbox: ExternalSandbox) -> ExternalSandbox:
    external_sandbox.reset()
    return external_sandbox


class Zbsn:
    """`zbsn --db URL …` as a subprocess, with the sandbox's window and the client secret in the env."""

    def __init__(self, url: str, sandbox: ExternalSandbox) -> None:
        self.url = url
        self.env = {**os.environ, **sandbox.env(), "PYTHONUNBUFFERED": "1"}

    def __call__(self, *args: str, secret: str | None = None, expect: int | None = EXIT_OK) -> Any:
        env = dict(self.env)
        if secret is not None:
            env["ZBSN_CLIENT_SECRET"] = secret
        done = subprocess.run(
            [sys.executable, "-m", "zbsn.core.cli.main", "--db", self.url, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        if expect is not None:
            assert done.returncode == expect, f"zbsn {' '.join(args)}: {done.returncode}\n{done.stderr}"
        return json.loads(done.stdout) if "--json" in args else done.stdout


def test_the_operator_story_through_the_cli(sandbox: ExternalSandbox, tmp_path: Path) -> None:
    info = sandbox.info
    zbsn = Zbsn(f"sqlite:///{tmp_path / 'cli.db'}", sandbox)

    zoho = zbsn(
        "connect", "zoho", "--json",
        "--client-id", info["zoho_client_id"],
        "--self-client-code", sandbox.self_client_code(),
        "--accounts-server", info["zoho_accounts_url"],
        "--org", info["zoho_organization_id"],
        secret=info["zoho_client_secret"],
    )  # fmt: skip
    assert zoho["chosen"]["organization_id"] == info["zoho_organization_id"]
    assert zoho["api_domain"] == info["zoho_api_domain"]
    servicenow = zbsn(
        "connect", "servicenow", "--json",
        "--instance", info["servicenow_url"],
        "--client-id", info["servicenow_client_id"],
        secret=info["servicenow_client_secret"],
    )  # fmt: skip
    assert servicenow["ok"], servicenow
    profile = zbsn(
        "profile", "create", "Northwind EU", "--json",
        "--cost-center-tag", info["cost_center_tag_name"],
        "--legal-entity", info["legal_entity"],
        "--allow-supplier-create",
    )  # fmt: skip
    assert profile["name"] == "Northwind EU"

    # ---- preview: the two cost centers ServiceNow lacks, and how many bills each blocks ----------------
    preview = zbsn("preview", "--changed", "--json")
    blocked = {
        entry["missing"]: entry["bills"]
        for entry in preview["blocked_by"]
        if entry["error_code"] == "UNMAPPED_COST_CENTER"
    }
    assert set(blocked) == {m["name"] for m in info["missing_cost_centers"]}
    assert preview["counts"]["ready"] > 0

    # ---- sync: the rest staged, the blocked bills failed with the reason --------------------------------
    run = zbsn("sync", "--json", expect=EXIT_FAILURES)
    assert run["staged"] > 0
    failed = zbsn("audit", "--status", "failed", "--kind", "bill", "--limit", "500", "--json")["rows"]
    by_cost_center = {row["zoho_id"] for row in failed if row["error_code"] == "UNMAPPED_COST_CENTER"}
    assert len(by_cost_center) == sum(blocked.values())

    # ---- the AP team creates the cost centers in ServiceNow; replay every failure ---------------------
    for missing in info["missing_cost_centers"]:
        created = json.loads(zbsn(
            "sandbox", "create-cost-center", missing["account_number"],
            "--servicenow-admin", info["servicenow_admin_url"], "--name", missing["name"],
        ))  # fmt: skip
        assert created["account_number"] == missing["account_number"]
    replay = zbsn("replay", "--all-failed", "--json", expect=None)
    assert replay["exit_code"] in (EXIT_OK, EXIT_FAILURES)
    still = zbsn("audit", "--status", "failed", "--kind", "bill", "--limit", "500", "--json")["rows"]
    assert not {row["zoho_id"] for row in still} & by_cost_center
    staged = {row["external_invoice_number"] for row in sandbox.servicenow_rows("sn_shop_invoice")}
    bills = zbsn("audit", "--status", "staged", "--kind", "bill", "--limit", "500", "--json")["rows"]
    assert {row["zoho_id"] for row in bills} >= by_cost_center
    assert {row["external_key"] for row in bills} <= staged

    # ---- reconcile a month, add a schedule; a later command sees it all ------------------------------
    report = zbsn("reconcile", "--from", "2026-09-01", "--to", "2026-09-30", "--json", expect=None)
    assert (report["from"], report["to"]) == ("2026-09-01", "2026-09-30")
    assert report["zoho"]["count"] > 0
    assert all(difference["explained"] for difference in report["differences"]), report["differences"]
    assert report["balanced"]
    zbsn("schedule", "add", "0 6 * * 1-5", "--name", "Weekday mornings", "--json")
    schedules = zbsn("schedule", "list", "--json")
    assert [s["cron"] for s in schedules] == ["0 6 * * 1-5"]
    status = zbsn("status", "--json", expect=None)
    assert [s["profile"] for s in status] == ["Northwind EU"]
    assert status[0]["tokens"] == {"zoho": "ok", "servicenow": "ok"}
    assert status[0]["last_run"]["trigger"] == "replay"
