"""The metadata tables a pre-flight reads; the knobs that take a column, a map, coalesce or a role away."""

from __future__ import annotations

import time
from typing import Any

import httpx

from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import DEMO_USER

from .test_lifecycle import INVOICE, Fresh, stage, stage_invoice

ME = "90d1921e5f510100a9ad2572f2b477fe"


def rows(api: httpx.Client, table: str, query: str, **params: str) -> list[dict[str, Any]]:
    """Records of a table matching an encoded query."""
    answer = api.get(f"/api/now/table/{table}", params={"sysparm_query": query, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["result"])


def test_the_dictionary_lists_staging_columns_with_labels(fresh: Fresh) -> None:
    sandbox, api = fresh
    entries = rows(api, "sys_dictionary", f"name={INVOICE}", sysparm_fields="element,column_label,mandatory")
    by_column = {e["element"]: e for e in entries}
    assert by_column[""]["column_label"] == "Invoice import staging"  # the table's own row
    assert by_column["u_external_invoice_number"]["column_label"] == "External invoice number"
    assert by_column["u_other_charges"]["mandatory"] == "true"  # documented mandatory
    assert by_column["u_supplier_tax_id"]["mandatory"] == "false"
    sandbox.remove_column(INVOICE, "u_supplier_tax_id")
    remaining = {
        e["element"] for e in rows(api, "sys_dictionary", f"name={INVOICE}", sysparm_fields="element")
    }
    assert "u_supplier_tax_id" not in remaining
    assert "u_external_invoice_number" in remaining
    assert api.post("/api/now/table/sys_dictionary", json={"name": "x"}).status_code == 403  # read-only


def test_a_removed_column_is_not_staged(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    httpx.post(f"{sandbox.url}/_admin/metadata/columns/{INVOICE}/u_supplier_tax_id/remove", json={})
    sys_id = stage_invoice(api, company, "META-TAXID", u_supplier_tax_id="GB125")
    assert api.get(f"/api/now/table/sn_shop_invoice/{sys_id}").json()["result"]["supplier_tax_id"] == ""
    httpx.post(f"{sandbox.url}/_admin/metadata/columns/{INVOICE}/u_supplier_tax_id/restore", json={})
    stage_invoice(api, company, "META-TAXID", u_supplier_tax_id="GB125")
    assert api.get(f"/api/now/table/sn_shop_invoice/{sys_id}").json()["result"]["supplier_tax_id"] == "GB125"


def test_transform_maps_and_their_coalesce_fields(fresh: Fresh) -> None:
    sandbox, api = fresh
    (invoice_map,) = rows(api, "sys_transform_map", f"source_table={INVOICE}")
    assert (invoice_map["name"], invoice_map["target_table"], invoice_map["active"]) == (
        "Invoice import",
        "sn_shop_invoice",
        "true",
    )
    entries = rows(
        api,
        "sys_transform_entry",
        f"map.source_table={INVOICE}",
        sysparm_fields="map,source_field,target_field,coalesce",
    )
    coalescing = {e["source_field"] for e in entries if e["coalesce"] == "true"}
    assert coalescing == {"u_external_invoice_number", "u_erp_source"}
    assert {e["map"]["value"] for e in entries} == {invoice_map["sys_id"]}
    assert {"u_amount_invoiced": "invoice_amount"}.items() <= {
        e["source_field"]: e["target_field"] for e in entries
    }.items()
    httpx.post(f"{sandbox.url}/_admin/metadata/coalesce/{INVOICE}", json={"columns": []})
    entries = rows(api, "sys_transform_entry", f"map.source_table={INVOICE}^coalesce=true")
    assert entries == []


def test_without_coalesce_every_restage_duplicates(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    sandbox.set_coalesce(INVOICE, ())
    stage_invoice(api, company, "META-DUP")
    stage_invoice(api, company, "META-DUP")
    assert len(rows(api, "sn_shop_invoice", "external_invoice_number=META-DUP")) == 2


def test_without_a_transform_map_rows_stay_pending(fresh: Fresh, company: Company) -> None:
    sandbox, api = fresh
    httpx.post(f"{sandbox.url}/_admin/metadata/transform_maps/{INVOICE}/remove", json={})
    assert rows(api, "sys_transform_map", f"source_table={INVOICE}") == []
    assert rows(api, "sys_transform_entry", f"map.source_table={INVOICE}") == []
    single = api.post(f"/api/now/import/{INVOICE}", json={"u_external_invoice_number": "META-NOMAP"})
    assert single.status_code == 201
    assert single.json()["result"] == []
    record = {"External invoice number": "META-NOMAP-2", "ERP source": "Zoho Books"}
    body = api.post(f"/api/now/import/{INVOICE}/insertMultiple", json={"records": [record]}).json()
    time.sleep(0.3)  # several async delays: no transform ever runs
    (row,) = rows(api, "sys_import_set_row", f"sys_import_set={body['import_set_id']}")
    assert row["sys_import_state"] == "pending"
    assert (
        api.get(f"/api/now/table/sys_import_set/{body['import_set_id']}").json()["result"]["state"]
        == "loading"
    )
    assert rows(api, "sn_shop_invoice", "external_invoice_numberSTARTSWITHMETA-NOMAP") == []


def test_insert_multiple_settings_are_rows(fresh: Fresh) -> None:
    sandbox, api = fresh
    assert rows(api, "sys_rest_insert_multiple", "") == []  # the platform defaults: async, by label
    sandbox.set_import_mode(INVOICE, mode="sync", column_mapping="name")
    (row,) = rows(api, "sys_rest_insert_multiple", f"source_table={INVOICE}", sysparm_display_value="all")
    assert row["column_mapping"] == {"display_value": "Column name", "value": "column_name"}
    assert row["transformation"] == {"display_value": "Synchronous", "value": "synchronous"}


def test_roles_of_the_requesting_user(fresh: Fresh) -> None:
    sandbox, api = fresh
    mine = rows(api, "sys_user_has_role", f"userDYNAMIC{ME}", sysparm_fields="role.name,user.user_name")
    assert {r["role.name"] for r in mine} == {
        "import_transformer",
        "sn_spend_intg.procurement_integrator",
        "sn_ap_apm.reader",
    }
    assert {r["user.user_name"] for r in mine} == {DEMO_USER}
    assert rows(api, "sys_user_has_role", "userDYNAMIC0123456789abcdef0123456789abcdef") == []
    httpx.post(f"{sandbox.url}/_admin/metadata/roles/{DEMO_USER}", json={"roles": ["itil"]})
    assert [
        r["role.name"] for r in rows(api, "sys_user_has_role", f"userDYNAMIC{ME}", sysparm_fields="role.name")
    ] == ["itil"]
    names = {r["name"] for r in rows(api, "sys_user_role", "")}
    assert {"admin", "import_transformer", "itil"} <= names


def test_a_staged_row_keeps_its_stage_error_readable(fresh: Fresh, company: Company) -> None:
    _sandbox, api = fresh
    entry = stage(api, INVOICE, {"u_external_invoice_number": "META-ERR", "u_erp_source": "Zoho Books"})
    assert entry["status"] == "error"
    assert entry["error_message"] == "Mandatory field 'Supplier' is empty"
