"""After staging: Draft, the 30-minute job with the exception engine, the AP team's actions, auto-approval."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import ServiceNowSandbox

INVOICE = "sn_spend_intg_imp_invoice"
LINE = "sn_spend_intg_imp_invoice_line"
Fresh = tuple[ServiceNowSandbox, httpx.Client]


def stage(api: httpx.Client, table: str, row: dict[str, str]) -> dict[str, Any]:
    """One row through the single-row Import Set API; its result entry."""
    response = api.post(f"/api/now/import/{table}", json=row)
    assert response.status_code == 201
    (entry,) = response.json()["result"]
    return entry


def stage_invoice(
    api: httpx.Client,
    company: Company,
    number: str,
    *,
    vendor: int = 0,
    line: dict[str, str] | None = None,
    **header: str,
) -> str:
    """A header and one coded line of 100.00 (staged again: updated or ignored); the invoice's sys_id."""
    supplier = [v for v in company.vendors if v.exists_in_servicenow][vendor]
    center = next(c for c in company.cost_centers if c.exists_in_servicenow)
    account = next(a for a in company.accounts if a.exists_in_servicenow and a.account_type == "expense")
    entry = stage(
        api,
        INVOICE,
        {
            "u_external_invoice_number": number,
            "u_erp_source": "Zoho Books",
            "u_supplier": supplier.supplier_code,
            "u_supplier_invoice_number": f"S-{number}",
            "u_invoice_date": "2026-10-01",
            "u_currency": company.legal_entity.currency_code,
            "u_legal_entity": company.legal_entity.company_code,
            "u_invoice_type": "non_po_invoice",
            "u_subtotal": "100.00",
            "u_amount_invoiced": "100.00",
            **header,
        },
    )
    assert entry["status"] in ("inserted", "updated", "ignored"), entry
    values = {
        "u_external_invoice_number": number,
        "u_erp_source": "Zoho Books",
        "u_erp_line_number": "1",
        "u_subtotal": "100.00",
        "u_cost_center": center.account_number,
        "u_gl_account": account.code,
        **(line or {}),
    }
    assert stage(api, LINE, values)["status"] in ("inserted", "updated", "ignored")
    return str(entry["sys_id"])


def invoice(api: httpx.Client, sys_id: str) -> dict[str, Any]:
    """The invoice as the Table API shows it."""
    return dict(api.get(f"/api/now/table/sn_shop_invoice/{sys_id}").json()["result"])


def exceptions(api: httpx.Client, sys_id: str, table: str = "sn_ap_apm_exception") -> list[dict[str, Any]]:
    """An invoice's exception records with display values."""
    params = {"sysparm_query": f"invoice={sys_id}^ORDERBYnumber", "sysparm_display_value": "all"}
    return list(api.get(f"/api/now/table/{table}", params=params).json()["result"])


def admin(sandbox: ServiceNowSandbox, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A POST to the sandbox's admin API."""
    return httpx.post(f"{sandbox.url}/_admin/{path}", json=body or {})


def test_the_job_runs_every_30_minutes_of_the_sandbox_clock(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    clean = stage_invoice(api, company, "LIFE-CLEAN")
    assert invoice(api, clean)["state"] == "draft"
    assert invoice(api, clean)["payment_terms"] == "Net 30"  # the supplier's terms for the legal entity
    sandbox.advance_clock(1790)
    assert invoice(api, clean)["state"] == "draft"
    sandbox.advance_clock(20)
    assert invoice(api, clean)["state"] == "pending_approval"  # auto-approval is off by default
    assert exceptions(api, clean) == []
    late = stage_invoice(api, company, "LIFE-LATE")
    sandbox.advance_clock(1200)
    assert invoice(api, late)["state"] == "draft"  # the next run is 30 minutes after the first
    sandbox.advance_clock(600)
    assert invoice(api, late)["state"] == "pending_approval"
    assert sandbox.jobs.runs["invoice_processing"] == 2


def test_missing_terms_and_blocked_supplier_are_header_exceptions(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    supplier = [v for v in company.vendors if v.exists_in_servicenow][1]
    sandbox.set_supplier_detail(supplier.supplier_code, remove=True)
    sys_id = stage_invoice(api, company, "LIFE-BLOCKED", vendor=1)
    assert invoice(api, sys_id)["payment_terms"] == ""  # no mapping: no terms to default from
    result = admin(sandbox, f"invoices/{sys_id}/validate")
    assert result.status_code == 200, result.text
    assert result.json()["result"]["state"] == "exceptions_found"
    found = {e["exception_definition"]["display_value"]: e for e in exceptions(api, sys_id)}
    assert set(found) == {"Missing required information", "Invalid or blocked supplier"}
    assert found["Missing required information"]["description"]["value"] == (
        "The invoice is missing: Payment terms."
    )
    assert "No supplier legal entity mapping" in found["Invalid or blocked supplier"]["description"]["value"]
    assert {e["state"]["value"] for e in found.values()} == {"open"}
    assert found["Invalid or blocked supplier"]["number"]["value"].startswith("APEX")

    # the AP team maps the supplier with a hold, then lifts it and fills the terms
    sandbox.set_supplier_detail(supplier.supplier_code, hold_payment=True)
    admin(sandbox, f"invoices/{sys_id}/validate")
    blocked = {e["exception_definition"]["display_value"]: e for e in exceptions(api, sys_id)}
    assert "Hold payment is set" in blocked["Invalid or blocked supplier"]["description"]["value"]
    sandbox.set_supplier_detail(supplier.supplier_code)
    patched = api.patch(f"/api/now/table/sn_shop_invoice/{sys_id}", json={"payment_terms": "Net 60"})
    assert patched.status_code == 200
    assert admin(sandbox, f"invoices/{sys_id}/validate").json()["result"]["state"] == "pending_approval"
    assert {e["state"]["value"] for e in exceptions(api, sys_id)} == {"resolved"}


def test_an_uncoded_line_is_a_line_exception(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sys_id = stage_invoice(api, company, "LIFE-CODING", line={"u_gl_account": ""})
    sandbox.run_job("invoice_processing")
    assert invoice(api, sys_id)["state"] == "exceptions_found"
    assert exceptions(api, sys_id) == []
    (line,) = exceptions(api, sys_id, "sn_ap_apm_line_exception")
    assert line["exception_definition"]["display_value"] == "Valid coding required"
    assert line["description"]["value"] == "Line 1 has no ledger account."
    assert line["invoice_line"]["value"]
    assert line["number"]["value"].startswith("APLEX")


def test_a_line_that_failed_staging_leaves_the_invoice_unbalanced(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sys_id = stage_invoice(api, company, "LIFE-BALANCE")
    failed = stage(
        api,
        LINE,
        {
            "u_external_invoice_number": "LIFE-BALANCE",
            "u_erp_source": "Zoho Books",
            "u_erp_line_number": "2",
            "u_subtotal": "20.00",
            "u_cost_center": "CC-NOPE",
        },
    )
    assert failed["status"] == "error"
    api.patch(f"/api/now/table/sn_shop_invoice/{sys_id}", json={"subtotal": "120.00"})
    sandbox.run_job("invoice_processing")
    (header,) = exceptions(api, sys_id)
    assert header["exception_definition"]["display_value"] == "Invoice isn't balanced"
    assert "(100.00)" in header["description"]["value"]
    assert "(120.00)" in header["description"]["value"]


def test_approval_creates_the_outbound_record(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sys_id = stage_invoice(api, company, "LIFE-APPROVE", line={"u_cost_center": ""})
    refused = admin(sandbox, f"invoices/{sys_id}/approve")
    assert refused.status_code == 400
    assert "1 open exception" in refused.json()["error"]
    (line,) = exceptions(api, sys_id, "sn_ap_apm_line_exception")
    bypassed = admin(
        sandbox,
        f"exceptions/sn_ap_apm_line_exception/{line['sys_id']['value']}/resolve",
        {"bypass_reason": "OK"},
    )
    assert bypassed.json()["result"]["state"] == "bypassed"
    assert invoice(api, sys_id)["state"] == "pending_approval"
    sandbox.run_job("invoice_processing")  # a bypassed exception is never raised again
    assert len(exceptions(api, sys_id, "sn_ap_apm_line_exception")) == 1
    approved = admin(sandbox, f"invoices/{sys_id}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["result"]["state"] == "approved"
    params = {"sysparm_query": f"invoice={sys_id}", "sysparm_display_value": "all"}
    (outbound,) = api.get("/api/now/table/sn_spend_intg_outbound_invoice", params=params).json()["result"]
    assert outbound["integration_status"] == {"display_value": "New", "value": "new"}
    assert outbound["number"]["value"] == invoice(api, sys_id)["number"]
    assert outbound["amount_invoiced"]["value"] == "100.00"
    assert outbound["erp_source"]["value"] == "Zoho Books"
    assert admin(sandbox, f"invoices/{sys_id}/approve").status_code == 400  # approved already


def test_auto_approve_moves_clean_invoices_on(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    assert admin(sandbox, "lifecycle", {"auto_approve": True}).json()["auto_approve"] is True
    clean = stage_invoice(api, company, "LIFE-AUTO")
    uncoded = stage_invoice(api, company, "LIFE-AUTO-2", line={"u_cost_center": ""})
    assert admin(sandbox, "jobs/invoice_processing").json() == {
        "job": "invoice_processing",
        "processed": 2,
        "approved": 1,
        "exceptions_found": 1,
    }
    assert invoice(api, clean)["state"] == "approved"
    assert invoice(api, uncoded)["state"] == "exceptions_found"
    outbound = sandbox.table("sn_spend_intg_outbound_invoice")
    assert [o["invoice"] for o in outbound] == [clean]


def test_unknown_admin_actions_are_refused(fresh: Fresh) -> None:
    sandbox, _api = fresh
    assert admin(sandbox, "jobs/nightly").status_code == 400
    assert admin(sandbox, "lifecycle", {"colour": "blue"}).status_code == 400
    assert admin(sandbox, "invoices/0123/approve").status_code == 400
    assert admin(sandbox, "invoices/0123/dance").status_code == 400


@pytest.mark.parametrize("state", ["canceled", "paid"])
def test_the_job_leaves_finished_invoices_alone(fresh: Fresh, company: Company, state: str) -> None:
    sandbox, api = fresh
    sys_id = stage_invoice(api, company, f"LIFE-{state}", line={"u_cost_center": ""})
    api.patch(f"/api/now/table/sn_shop_invoice/{sys_id}", json={"state": state})
    assert sandbox.run_job("invoice_processing")["processed"] == 0
    assert invoice(api, sys_id)["state"] == state
    assert exceptions(api, sys_id, "sn_ap_apm_line_exception") == []
