"""The outbound (post-to-ERP) table over the Table API, payments by ERP number, and strict matching."""

from __future__ import annotations

from typing import Any

import httpx

from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import ServiceNowSandbox

from .test_lifecycle import Fresh, invoice, stage, stage_invoice

OUTBOUND = "/api/now/table/sn_spend_intg_outbound_invoice"
PAYMENT = "sn_spend_intg_imp_invoice_payment_detail"


def approved_invoice(sandbox: ServiceNowSandbox, api: httpx.Client, company: Company, number: str) -> str:
    """An invoice approved by the AP team, its outbound record New; the invoice's sys_id."""
    sys_id = stage_invoice(api, company, number, u_erp_number=f"BILL-{number}")
    sandbox.approve_invoice(sys_id)
    return sys_id


def outbound_of(api: httpx.Client, sys_id: str) -> list[dict[str, Any]]:
    """An invoice's outbound records, oldest first."""
    params = {
        "sysparm_query": f"invoice={sys_id}^ORDERBYsys_created_on",
        "sysparm_exclude_reference_link": "true",
    }
    return list(api.get(OUTBOUND, params=params).json()["result"])


def payment(company: Company, erp_invoice_number: str, reference: str, amount: str) -> dict[str, str]:
    """A payment detail row against an ERP invoice number."""
    supplier = next(v for v in company.vendors if v.exists_in_servicenow)
    return {
        "u_erp_invoice_number": erp_invoice_number,
        "u_erp_supplier_code": supplier.supplier_code,
        "u_erp_source": "Zoho Books",
        "u_currency": company.legal_entity.currency_code,
        "u_payment_amount": amount,
        "u_payment_date": "2026-10-20",
        "u_payment_method": "bank_transfer",
        "u_payment_reference_id": reference,
    }


def test_processed_moves_the_invoice_to_pending_payment_then_paid(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sys_id = approved_invoice(sandbox, api, company, "OUT-1")
    (record,) = outbound_of(api, sys_id)
    url = f"{OUTBOUND}/{record['sys_id']}"
    assert api.patch(url, json={"integration_status": "in_progress"}).status_code == 200
    assert invoice(api, sys_id)["erp_integration_status"] == "in_progress"
    refused = api.patch(url, json={"integration_status": "processed", "erp_number": ""})
    assert refused.status_code == 403
    assert "ERP number" in refused.json()["error"]["detail"]
    assert outbound_of(api, sys_id)[0]["integration_status"] == "in_progress"  # nothing written
    done = api.patch(
        url,
        json={
            "integration_status": "processed",
            "erp_number": "BILL-OUT-1",
            "erp_posting_date": "2026-10-02",
        },
    )
    assert done.status_code == 200
    assert done.json()["result"]["invoice_status"] == "pending_payment"
    posted = invoice(api, sys_id)
    assert (posted["state"], posted["erp_number"], posted["erp_posting_date"]) == (
        "pending_payment",
        "BILL-OUT-1",
        "2026-10-02",
    )
    assert stage(api, PAYMENT, payment(company, "BILL-OUT-1", "PAY-OUT-1", "100.00"))["status"] == "inserted"
    assert invoice(api, sys_id)["state"] == "paid"


def test_an_error_keeps_the_invoice_approved_and_send_to_erp_starts_again(
    fresh: Fresh, company: Company
) -> None:
    sandbox, api = fresh
    sys_id = approved_invoice(sandbox, api, company, "OUT-2")
    (record,) = outbound_of(api, sys_id)
    failed = api.patch(
        f"{OUTBOUND}/{record['sys_id']}",
        json={"integration_status": "error", "processing_message": "Vendor is blocked in the ERP"},
    )
    assert failed.status_code == 200
    assert invoice(api, sys_id)["state"] == "approved"
    assert invoice(api, sys_id)["erp_integration_status"] == "failed"
    again = httpx.post(f"{sandbox.url}/_admin/invoices/{sys_id}/send_to_erp", json={})
    assert again.status_code == 200
    first, second = outbound_of(api, sys_id)
    assert (first["integration_status"], first["processing_message"]) == (
        "error",
        "Vendor is blocked in the ERP",
    )
    assert second["integration_status"] == "new"


def test_payments_match_by_erp_number_strictly(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sys_id = stage_invoice(api, company, "ZB-ORG-77", u_erp_number="77")
    assert "payment_match_fallback" not in sandbox.config_snapshot()  # the lenient mode is gone

    strict = stage(api, PAYMENT, payment(company, "ZB-ORG-77", "PAY-STRICT", "10.00"))
    assert strict["status"] == "error"  # the external invoice number never stands in for the ERP number
    assert strict["error_message"] == "Invoice with ERP invoice number 'ZB-ORG-77' not found"
    by_number = stage(api, PAYMENT, payment(company, "77", "PAY-BY-NUMBER", "10.00"))
    assert by_number["status"] == "inserted"
    paid = {r["payment_reference_id"]: r["invoice"] for r in sandbox.table("sn_shop_invoice_payment_detail")}
    assert paid == {"PAY-BY-NUMBER": sys_id}
    (error,) = [e for e in sandbox.table("sn_spend_intg_import_error") if e["source_table"] == PAYMENT]
    assert error["error_message"] == strict["error_message"]
    assert error["invoice"] == ""  # nothing matched strictly


def test_payment_of_another_erp_source_does_not_match(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    stage_invoice(api, company, "OUT-SRC", u_erp_number="88")
    sandbox.db.insert("sn_fin_erp_source", {"name": "Other ERP", "active": "true"})
    other = stage(api, PAYMENT, {**payment(company, "88", "PAY-OTHER", "1.00"), "u_erp_source": "Other ERP"})
    assert other["status"] == "error"  # the supplier and the invoice belong to Zoho Books
