"""The operator's whole story through the `zbsn` CLI alone, against `zbsn sandbox` in its own process.

Every step is a `zbsn` subprocess on one SQLite file, as an operator (or a cron job) would run it: connect
Zoho Books with a self-client code, connect ServiceNow, create a profile, preview (the two cost centers
ServiceNow lacks are listed with the bills they block), sync (those bills fail with the reason), the AP team
creates the cost centers (`zbsn sandbox create-cost-center`), replay every failure, reconcile, add a
schedule; then follow the invoices in ServiceNow (`zbsn refresh`, `zbsn audit --servicenow-status`) while the
AP team works there: the scheduled job checks them, an approved one is posted by zbsn as the ERP. Every later
command finds what the earlier ones stored.
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

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


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

    # ---- ServiceNow's side: the invoices wait in Draft until its job checks them; zbsn follows them ----
    drafts = zbsn("audit", "--servicenow-status", "draft", "--kind", "bill", "--limit", "500", "--json")
    assert drafts["rows"]
    assert all(row["servicenow"]["status"] == "draft" for row in drafts["rows"])
    replayed = [row for row in bills if row["zoho_id"] in by_cost_center]
    # followed at the end of the replay run: unchecked by ServiceNow yet, or paid by the replayed payments
    assert {row["sn_status"] for row in replayed} <= {"draft", "paid"}
    sandbox.run_servicenow_job()
    refreshed = zbsn("refresh", "--json")
    assert refreshed["mode"] == "refresh"
    assert refreshed["servicenow_statuses"].get("draft", 0) == 0
    waiting = zbsn(
        "audit", "--servicenow-status", "pending_approval", "--limit", "500", "--json"
    )["rows"]  # fmt: skip
    assert waiting
    assert all(row["servicenow"]["summary"].startswith("No open exceptions") for row in waiting)
    exceptions = zbsn("audit", "--servicenow-status", "exceptions_found", "--limit", "500", "--json")["rows"]
    assert all(row["servicenow"]["exceptions"] for row in exceptions)  # the definitions and their text
    # the AP team approves one; zbsn, Zoho Books being the ERP (the profile's default), posts it
    chosen = waiting[0]
    invoice = next(
        r
        for r in sandbox.servicenow_rows("sn_shop_invoice")
        if r["external_invoice_number"] == chosen["external_key"]
    )
    sandbox.servicenow_invoice_action(invoice["sys_id"], "approve")
    posted = zbsn("audit", "--refresh", "--servicenow-status", "posted", "--json")["rows"]
    assert [row["zoho_id"] for row in posted] == [chosen["zoho_id"]]
    after = next(r for r in sandbox.servicenow_rows("sn_shop_invoice") if r["sys_id"] == invoice["sys_id"])
    assert (after["state"], after["erp_number"]) == ("pending_payment", chosen["zoho_id"])
    table = zbsn("audit", "--servicenow-status", "posted")
    assert "Posted" in table
    edited = zbsn("profile", "edit", "Northwind EU", "--no-post-outbound", "--json")
    assert edited["post_outbound_as_erp"] is False
    # the bill statuses it stages and a payment-term override (issue 16)
    assert edited["stage_bill_statuses"] == ["open", "overdue", "partially_paid", "paid"]
    terms = ("--payment-term", "Net 30=Net 030", "--payment-term", "Due on Receipt=Immediate")
    lifecycle = zbsn("profile", "edit", "Northwind EU", "--stage-statuses", "overdue,open", *terms, "--json")
    assert lifecycle["stage_bill_statuses"] == ["open", "overdue"]
    assert lifecycle["payment_terms_overrides"] == [["Due on Receipt", "Immediate"], ["Net 30", "Net 030"]]
    # the invoices' business owner and one cost center's (issue 16): the preview names who owns each bill,
    # the FX rate a foreign-currency bill stages, and what ServiceNow would refuse
    owners = zbsn(
        "profile", "edit", "Northwind EU", "--json",
        "--business-owner", "alex.morgan@northwind.example",
        "--cost-center-owner", "CC-LON-200=priya.shah@northwind.example",
    )  # fmt: skip
    assert owners["business_owner"] == "alex.morgan@northwind.example"
    assert owners["cost_center_owners"] == [["CC-LON-200", "priya.shah@northwind.example"]]
    zbsn("profile", "edit", "Northwind EU", "--cost-center-owner", "CC-LON-200", expect=EXIT_USAGE)
    preview = zbsn("preview", "--from", "2000-01-01", "--json")
    notes = [note for bill in preview["bills"] for note in bill["notes"]]
    assert any("business owner alex.morgan@northwind.example (from the profile)" in n for n in notes)
    assert any(
        "business owner priya.shah@northwind.example (from cost center CC-LON-200)" in n for n in notes
    )
    foreign = [bill for bill in preview["bills"] if bill["fx_rate"]]
    assert foreign
    assert all(bill["fx_rate"]["u_to_currency"] == "GBP" for bill in foreign)
    former = zbsn(
        "profile",
        "edit",
        "Northwind EU",
        "--business-owner",
        "sam.former",
        "--clear-cost-center-owners",
        "--json",
    )
    assert (former["business_owner"], former["cost_center_owners"]) == ("sam.former", [])
    refused = zbsn("preview", "--from", "2000-01-01", "--json")
    assert refused["counts"]["ready"] == 0
    assert {"error_code": "UNKNOWN_BUSINESS_OWNER", "missing": "sam.former"} in [
        {k: v for k, v in entry.items() if k != "bills"} for entry in refused["blocked_by"]
    ]
