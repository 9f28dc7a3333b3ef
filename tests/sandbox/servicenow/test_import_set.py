"""Import Set API: single-row outcomes, insertMultiple async/sync, label/name keys, S2P invoice lifecycle."""

from __future__ import annotations

import time
from typing import Any

import httpx

from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import ServiceNowSandbox

INVOICE = "sn_spend_intg_imp_invoice"
LINE = "sn_spend_intg_imp_invoice_line"
PAYMENT = "sn_spend_intg_imp_invoice_payment_detail"


def _invoice(company: Company, number: str, **extra: str) -> dict[str, str]:
    supplier = next(v for v in company.vendors if v.exists_in_servicenow)
    return {
        "u_external_invoice_number": number,
        "u_erp_source": "Zoho Books",
        "u_supplier": supplier.supplier_code,
        "u_supplier_invoice_number": f"SUP-{number}",
        "u_invoice_date": "2026-03-01",
        "u_due_date": "2026-03-31",
        "u_currency": company.legal_entity.currency_code,
        "u_legal_entity": company.legal_entity.company_code,
        "u_subtotal": "100.00",
        "u_tax_amount": "20.00",
        "u_amount_invoiced": "120.00",
        **extra,
    }


def _import(api: httpx.Client, table: str, row: dict[str, str]) -> dict[str, Any]:
    response = api.post(f"/api/now/import/{table}", json=row)
    assert response.status_code == 201
    body = response.json()
    assert body["staging_table"] == table
    assert body["import_set"].startswith("ISET")
    assert len(body["result"]) == 1
    return body["result"][0]


def _wait_processed(api: httpx.Client, import_set_id: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = api.get(f"/api/now/table/sys_import_set/{import_set_id}").json()["result"]["state"]
        if state == "processed":
            return
        time.sleep(0.02)
    raise AssertionError("import set was not processed in time")


def _rows(api: httpx.Client, import_set_id: str) -> list[dict[str, Any]]:
    params = {
        "sysparm_query": f"sys_import_set={import_set_id}^ORDERBYsys_import_row",
        "sysparm_exclude_reference_link": "true",
    }
    return api.get("/api/now/table/sys_import_set_row", params=params).json()["result"]


def test_single_row_lifecycle(api: httpx.Client, company: Company, sandbox: ServiceNowSandbox) -> None:
    row = _invoice(company, "BILL-LIFE-1")
    inserted = _import(api, INVOICE, row)
    assert inserted["status"] == "inserted"
    assert inserted["transform_map"] == "Invoice import"
    assert inserted["table"] == "sn_shop_invoice"
    assert inserted["record_link"] == f"{sandbox.url}/api/now/table/sn_shop_invoice/{inserted['sys_id']}"
    assert inserted["display_name"] == "number"
    assert inserted["display_value"].startswith("INV")

    ignored = _import(api, INVOICE, row)
    assert ignored["status"] == "ignored"
    assert ignored["status_message"] == "No field values changed"
    assert ignored["sys_id"] == inserted["sys_id"]

    updated = _import(api, INVOICE, {**row, "u_subtotal": "110.00", "u_amount_invoiced": "130.00"})
    assert updated["status"] == "updated"
    assert updated["sys_id"] == inserted["sys_id"]
    invoice = api.get(f"/api/now/table/sn_shop_invoice/{inserted['sys_id']}").json()["result"]
    assert invoice["subtotal"] == "110.00"
    assert invoice["sys_mod_count"] == "1"

    skipped = _import(api, INVOICE, {**row, "u_external_invoice_number": ""})
    assert skipped["status"] == "skipped"
    assert "u_external_invoice_number" in skipped["status_message"]

    invoices = api.get(
        "/api/now/table/sn_shop_invoice", params={"sysparm_query": "external_invoice_number=BILL-LIFE-1"}
    ).json()["result"]
    assert len(invoices) == 1


def test_invoice_lands_in_draft_with_references(api: httpx.Client, company: Company) -> None:
    result = _import(api, INVOICE, _invoice(company, "BILL-DRAFT-1"))
    invoice = api.get(
        f"/api/now/table/sn_shop_invoice/{result['sys_id']}", params={"sysparm_display_value": "all"}
    ).json()["result"]
    assert invoice["state"] == {"display_value": "Draft", "value": "draft"}
    supplier = next(v for v in company.vendors if v.exists_in_servicenow)
    assert invoice["supplier"]["display_value"] == supplier.name
    assert invoice["legal_entity"]["display_value"] == company.legal_entity.name
    assert invoice["invoice_amount"]["value"] == "120.00"


def test_bad_references_are_errors_inside_201(api: httpx.Client, company: Company) -> None:
    _import(api, INVOICE, _invoice(company, "BILL-REF-1"))
    bad_cc = _import(
        api,
        LINE,
        {
            "u_external_invoice_number": "BILL-REF-1",
            "u_erp_source": "Zoho Books",
            "u_erp_line_number": "1",
            "u_cost_center": "CC-NOPE",
            "u_subtotal": "100",
        },
    )
    assert bad_cc["status"] == "error"
    assert bad_cc["error_message"] == "Cost center 'CC-NOPE' not found"
    staging = api.get(f"/api/now/import/{LINE}/{bad_cc['sys_id']}")
    assert staging.status_code == 200
    assert staging.json()["result"][0]["status"] == "error"
    row = api.get(f"/api/now/table/{LINE}/{bad_cc['sys_id']}", params={"sysparm_display_value": "all"})
    row = row.json()["result"]
    assert row["sys_import_state"]["value"] == "error"
    # sys_row_error references the row's sys_import_set_row_error record: its display value is the reason
    assert row["sys_row_error"]["display_value"] == "Cost center 'CC-NOPE' not found"
    assert len(row["sys_row_error"]["value"]) == 32

    no_header = _import(api, LINE, {"u_external_invoice_number": "BILL-NOT-THERE", "u_erp_line_number": "1"})
    assert no_header["status"] == "error"
    assert "BILL-NOT-THERE" in no_header["error_message"]
    for column, value, fragment in (
        ("u_supplier", "SUP-NOPE", "Supplier 'SUP-NOPE' not found"),
        ("u_currency", "XXX", "Currency 'XXX'"),
        ("u_legal_entity", "LE-NOPE", "Legal entity 'LE-NOPE' not found"),
        ("u_subtotal", "12,5O", "Invalid amount"),
    ):
        result = _import(api, INVOICE, _invoice(company, f"BILL-BAD-{column}", **{column: value}))
        assert result["status"] == "error"
        assert fragment in result["error_message"]


def test_admin_fix_then_resent_error_row_succeeds(
    api: httpx.Client, company: Company, sandbox: ServiceNowSandbox
) -> None:
    missing = next(c for c in company.cost_centers if not c.exists_in_servicenow)
    _import(api, INVOICE, _invoice(company, "BILL-FIX-1"))
    line = {
        "u_external_invoice_number": "BILL-FIX-1",
        "u_erp_source": "Zoho Books",
        "u_erp_line_number": "1",
        "u_cost_center": missing.account_number,
        "u_subtotal": "100",
    }
    assert _import(api, LINE, line)["status"] == "error"
    created = httpx.post(
        f"{sandbox.url}/_admin/cost_centers",
        json={"account_number": missing.account_number, "name": missing.name},
    )
    assert created.status_code == 200
    replay = _import(api, LINE, line)
    assert replay["status"] == "inserted"
    assert replay["table"] == "sn_shop_invoice_line"
    stored = api.get(f"/api/now/table/sn_shop_invoice_line/{replay['sys_id']}").json()["result"]
    assert stored["cost_center"]["value"] == created.json()["result"]["sys_id"]


def test_insert_multiple_async_label_keyed(api: httpx.Client, company: Company) -> None:
    _import(api, INVOICE, _invoice(company, "BILL-MULTI-1"))
    good_cc = next(c for c in company.cost_centers if c.exists_in_servicenow).account_number
    records = [
        {
            "External invoice number": "BILL-MULTI-1",
            "ERP source": "Zoho Books",
            "ERP line number": "1",
            "Cost center": good_cc,
            "Subtotal": "60",
        },
        {
            "External invoice number": "BILL-MULTI-1",
            "ERP source": "Zoho Books",
            "ERP line number": "2",
            "Cost center": "CC-NOPE",
            "Subtotal": "40",
        },
        {
            "External invoice number": "BILL-MULTI-1",
            "ERP source": "Zoho Books",
            "ERP line number": "",
            "Subtotal": "40",
        },
    ]
    response = api.post(f"/api/now/import/{LINE}/insertMultiple", json={"records": records})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"import_set_id", "multi_import_set_id"}
    _wait_processed(api, body["import_set_id"])
    rows = _rows(api, body["import_set_id"])
    assert [r["sys_import_row"] for r in rows] == ["0", "1", "2"]
    assert [r["sys_import_state"] for r in rows] == ["inserted", "error", "skipped"]
    assert rows[0]["sys_target_table"] == "sn_shop_invoice_line"
    line = api.get(f"/api/now/table/sn_shop_invoice_line/{rows[0]['sys_target_sys_id']}").json()["result"]
    assert line["sub_total"] == "60"
    assert line["erp_line_number"] == "1"
    assert rows[1]["sys_import_state_comment"] == "Cost center 'CC-NOPE' not found"
    assert rows[1]["sys_target_sys_id"] == ""


def test_insert_multiple_column_names_ignored_in_label_mode(api: httpx.Client, company: Company) -> None:
    record = {
        "u_external_invoice_number": "BILL-KEYS-1",
        "u_erp_source": "Zoho Books",
        "u_supplier": company.vendors[0].supplier_code,
        "u_currency": company.legal_entity.currency_code,
    }
    body = api.post(f"/api/now/import/{INVOICE}/insertMultiple", json={"records": [record]}).json()
    _wait_processed(api, body["import_set_id"])
    assert _rows(api, body["import_set_id"])[0]["sys_import_state"] == "skipped"


def test_insert_multiple_sync_and_column_mapping(
    api: httpx.Client, company: Company, sandbox: ServiceNowSandbox
) -> None:
    sandbox.set_import_mode(INVOICE, mode="sync", column_mapping="name")
    try:
        records = [_invoice(company, "BILL-SYNC-1"), _invoice(company, "BILL-SYNC-2", u_supplier="SUP-NOPE")]
        response = api.post(f"/api/now/import/{INVOICE}/insertMultiple", json={"records": records})
        assert response.status_code == 201
        body = response.json()
        assert body["import_set_id"]
        assert body["multi_import_set_id"]
        assert [r["status"] for r in body["result"]] == ["inserted", "error"]
        assert body["result"][1]["error_message"] == "Supplier 'SUP-NOPE' not found"
        import_set = api.get(f"/api/now/table/sys_import_set/{body['import_set_id']}").json()["result"]
        assert import_set["state"] == "processed"
    finally:
        sandbox.set_import_mode(INVOICE)


def test_payment_moves_invoice_to_paid(api: httpx.Client, company: Company) -> None:
    invoice = _import(api, INVOICE, _invoice(company, "BILL-PAY-1", u_erp_number="ZB-PAY-1"))
    supplier = next(v for v in company.vendors if v.exists_in_servicenow)
    payment = {
        "u_erp_invoice_number": "ZB-PAY-1",
        "u_erp_supplier_code": supplier.supplier_code,
        "u_erp_source": "Zoho Books",
        "u_currency": company.legal_entity.currency_code,
        "u_payment_amount": "50.00",
        "u_payment_date": "2026-03-10",
        "u_payment_method": "bank_transfer",
        "u_payment_reference_id": "PAY-1",
    }
    assert _import(api, PAYMENT, payment)["status"] == "inserted"
    state = api.get(f"/api/now/table/sn_shop_invoice/{invoice['sys_id']}").json()["result"]
    assert state["state"] == "draft"
    assert state["amount_paid"] == "50.00"
    second = _import(
        api,
        PAYMENT,
        {
            **payment,
            "u_payment_reference_id": "PAY-2",
            "u_payment_amount": "70.00",
            "u_payment_date": "2026-03-12",
        },
    )
    assert second["status"] == "inserted"
    paid = api.get(f"/api/now/table/sn_shop_invoice/{invoice['sys_id']}").json()["result"]
    assert paid["state"] == "paid"
    assert paid["payment_date"] == "2026-03-12"
    bad = _import(api, PAYMENT, {**payment, "u_payment_reference_id": "PAY-3", "u_payment_method": "Check"})
    assert bad["status"] == "error"
    assert "payment method" in bad["error_message"]


def test_cancellation(api: httpx.Client, company: Company) -> None:
    row = _invoice(company, "BILL-CXL-1")
    inserted = _import(api, INVOICE, row)
    canceled = _import(api, INVOICE, {**row, "u_invoice_state": "canceled"})
    assert canceled["status"] == "updated"
    assert canceled["sys_id"] == inserted["sys_id"]
    invoice = api.get(f"/api/now/table/sn_shop_invoice/{inserted['sys_id']}").json()["result"]
    assert invoice["state"] == "canceled"


def test_master_data_staging(api: httpx.Client) -> None:
    supplier = _import(
        api,
        "sn_fcms_intg_imp_supplier",
        {"u_erp_supplier_code": "SUP-NEW-1", "u_name": "Newco", "u_erp_source": "Zoho Books"},
    )
    assert supplier["status"] == "inserted"
    assert supplier["table"] == "sn_fin_supplier"
    center = _import(api, "sn_fcms_intg_imp_cost_center", {"u_account_number": "CC-NEW-1", "u_name": "New"})
    assert center["status"] == "inserted"
    assert center["table"] == "cmn_cost_center"
    account = _import(api, "sn_fcms_intg_gl_account_stage", {"u_number": "7777", "u_account_name": "New GL"})
    assert account["status"] == "inserted"
    assert account["table"] == "sn_fin_gl_account"
    again = _import(api, "sn_fcms_intg_gl_account_stage", {"u_number": "7777", "u_account_name": "New GL"})
    assert again["status"] == "ignored"


def test_not_a_staging_table(api: httpx.Client) -> None:
    response = api.post("/api/now/import/sn_shop_invoice", json={"number": "x"})
    assert response.status_code == 400
    assert response.json()["status"] == "failure"


def test_async_rows_are_pending_until_processed(api: httpx.Client, sandbox: ServiceNowSandbox) -> None:
    sandbox.config.async_delay_seconds = 0.5
    try:
        records = [{"Account number": "CC-PEND-1", "Name": "Pending one"}]
        body = api.post(
            "/api/now/import/sn_fcms_intg_imp_cost_center/insertMultiple", json={"records": records}
        ).json()
        assert _rows(api, body["import_set_id"])[0]["sys_import_state"] == "pending"
        import_set = api.get(f"/api/now/table/sys_import_set/{body['import_set_id']}").json()["result"]
        assert import_set["state"] == "loading"
        _wait_processed(api, body["import_set_id"])
        assert _rows(api, body["import_set_id"])[0]["sys_import_state"] == "inserted"
    finally:
        sandbox.config.async_delay_seconds = 0.05


def test_tax_lines_link_to_header_and_line(api: httpx.Client, company: Company) -> None:
    _import(api, INVOICE, _invoice(company, "BILL-TAX-1"))
    _import(
        api,
        LINE,
        {
            "u_external_invoice_number": "BILL-TAX-1",
            "u_erp_source": "Zoho Books",
            "u_erp_line_number": "1",
            "u_subtotal": "100",
        },
    )
    tax = {
        "u_external_invoice_number": "BILL-TAX-1",
        "u_erp_source": "Zoho Books",
        "u_erp_line_number": "1",
        "u_tax_type": "VAT",
        "u_tax_amount": "20.00",
        "u_taxable_amount": "100.00",
        "u_supplier_tax_rate": "20",
    }
    first = _import(api, "sn_spend_intg_imp_invoice_tax_line", tax)
    assert first["status"] == "inserted"
    assert _import(api, "sn_spend_intg_imp_invoice_tax_line", tax)["status"] == "ignored"
    stored = api.get(
        f"/api/now/table/sn_shop_invoice_tax_line/{first['sys_id']}",
        params={"sysparm_display_value": "true", "sysparm_exclude_reference_link": "true"},
    )
    assert stored.json()["result"]["invoice_line"].startswith("INVL")
    wrong_line = _import(api, "sn_spend_intg_imp_invoice_tax_line", {**tax, "u_erp_line_number": "9"})
    assert wrong_line["status"] == "error"


def test_import_settings_via_admin_endpoint(
    api: httpx.Client, company: Company, sandbox: ServiceNowSandbox
) -> None:
    url = f"{sandbox.url}/_admin/import_settings/sn_fcms_intg_imp_supplier"
    assert httpx.post(url, json={"mode": "sync", "column_mapping": "label"}).status_code == 200
    try:
        records = [{"ERP supplier code": "SUP-ADM-1", "Name": "Admin Co"}]
        body = api.post("/api/now/import/sn_fcms_intg_imp_supplier/insertMultiple", json={"records": records})
        assert [r["status"] for r in body.json()["result"]] == ["inserted"]
    finally:
        httpx.post(url, json={"mode": "async", "column_mapping": "label"})
    assert httpx.post(f"{sandbox.url}/_admin/import_settings/sn_shop_invoice", json={}).status_code == 400


def test_table_api_insert_into_staging_table_transforms(api: httpx.Client) -> None:
    response = api.post(
        "/api/now/table/sn_fcms_intg_imp_cost_center",
        json={"u_account_number": "CC-TBL-1", "u_name": "Via Table API"},
    )
    assert response.status_code == 201
    row = response.json()["result"]
    assert row["sys_import_state"] == "inserted"
    target = api.get(f"/api/now/table/cmn_cost_center/{row['sys_target_sys_id']}").json()["result"]
    assert target["account_number"] == "CC-TBL-1"
    refused = api.patch(f"/api/now/table/sys_import_set_row/{row['sys_id']}", json={"sys_import_state": "x"})
    assert refused.status_code == 403
