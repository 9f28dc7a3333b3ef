"""Table API: CRUD, paging headers, fields, display values, references, errors, encoded queries."""

from __future__ import annotations

import re

import httpx
import pytest

from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import ServiceNowSandbox

SYS_ID = re.compile(r"^[0-9a-f]{32}$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def test_list_is_seeded_from_company_skipping_missing(api: httpx.Client, company: Company) -> None:
    rows = api.get("/api/now/table/cmn_cost_center").json()["result"]
    numbers = {r["account_number"] for r in rows}
    expected = {c.account_number for c in company.cost_centers if c.exists_in_servicenow}
    missing = {c.account_number for c in company.cost_centers if not c.exists_in_servicenow}
    assert numbers == expected
    assert missing
    assert not numbers & missing


def test_record_values_are_strings_with_sys_fields(api: httpx.Client) -> None:
    row = api.get("/api/now/table/sn_fin_supplier", params={"sysparm_limit": 1}).json()["result"][0]
    assert SYS_ID.match(row["sys_id"])
    assert STAMP.match(row["sys_created_on"])
    assert STAMP.match(row["sys_updated_on"])
    assert row["sys_mod_count"] == "0"
    assert all(isinstance(v, str | dict) for v in row.values())
    one = api.get(f"/api/now/table/sn_fin_supplier/{row['sys_id']}")
    assert one.status_code == 200
    assert one.json()["result"]["erp_supplier_code"] == row["erp_supplier_code"]


def test_paging_headers(api: httpx.Client) -> None:
    total = len(api.get("/api/now/table/sn_fin_gl_account").json()["result"])
    response = api.get("/api/now/table/sn_fin_gl_account", params={"sysparm_limit": 2, "sysparm_offset": 2})
    assert response.headers["X-Total-Count"] == str(total)
    assert len(response.json()["result"]) == 2
    link = response.headers["Link"]
    assert 'rel="first"' in link
    assert 'rel="prev"' in link
    assert 'rel="next"' in link
    assert 'rel="last"' in link
    next_url = re.search(r'<([^>]+)>;rel="next"', link)
    assert next_url is not None
    assert "sysparm_offset=4" in next_url.group(1)
    follow = api.get(next_url.group(1))
    assert follow.status_code == 200
    first_page = {r["sys_id"] for r in response.json()["result"]}
    assert not first_page & {r["sys_id"] for r in follow.json()["result"]}
    last_page = api.get(
        "/api/now/table/sn_fin_gl_account", params={"sysparm_limit": total, "sysparm_offset": 0}
    )
    assert 'rel="next"' not in last_page.headers["Link"]


def test_fields_unknown_ignored_and_reference_shapes(api: httpx.Client, sandbox: ServiceNowSandbox) -> None:
    params = {"sysparm_fields": "name,location,no_such_field", "sysparm_limit": 1}
    row = api.get("/api/now/table/cmn_cost_center", params=params).json()["result"][0]
    assert set(row) == {"name", "location"}
    location = row["location"]
    assert set(location) == {"link", "value"}
    assert location["link"] == f"{sandbox.url}/api/now/table/cmn_location/{location['value']}"

    bare = api.get(
        "/api/now/table/cmn_cost_center", params={**params, "sysparm_exclude_reference_link": "true"}
    ).json()["result"][0]
    assert bare["location"] == location["value"]

    shown = api.get(
        "/api/now/table/cmn_cost_center", params={**params, "sysparm_display_value": "true"}
    ).json()["result"][0]
    office = api.get(f"/api/now/table/cmn_location/{location['value']}").json()["result"]
    assert shown["location"]["display_value"] == office["name"]

    both = api.get(
        "/api/now/table/cmn_cost_center", params={**params, "sysparm_display_value": "all"}
    ).json()["result"][0]
    assert both["name"] == {"display_value": row["name"], "value": row["name"]}
    assert both["location"]["value"] == location["value"]
    assert both["location"]["display_value"] == office["name"]


def test_create_patch_delete_cycle(api: httpx.Client, sandbox: ServiceNowSandbox) -> None:
    created = api.post(
        "/api/now/table/cmn_cost_center",
        json={"name": "Temp", "account_number": "CC-TMP-1", "bogus": "x", "valid_from": "2026-01-01"},
    )
    assert created.status_code == 201
    record = created.json()["result"]
    assert created.headers["Location"] == f"{sandbox.url}/api/now/table/cmn_cost_center/{record['sys_id']}"
    assert "bogus" not in record
    patched = api.patch(f"/api/now/table/cmn_cost_center/{record['sys_id']}", json={"code": "TMP"})
    assert patched.status_code == 200
    assert patched.json()["result"]["code"] == "TMP"
    assert patched.json()["result"]["sys_mod_count"] == "1"
    put = api.put(f"/api/now/table/cmn_cost_center/{record['sys_id']}", json={"name": "Temp 2"})
    assert put.json()["result"]["name"] == "Temp 2"
    deleted = api.delete(f"/api/now/table/cmn_cost_center/{record['sys_id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = api.get(f"/api/now/table/cmn_cost_center/{record['sys_id']}")
    assert gone.status_code == 404
    assert gone.json() == {
        "error": {
            "message": "No Record found",
            "detail": "Record doesn't exist or ACL restricts the record retrieval",
        },
        "status": "failure",
    }


def test_invalid_table_and_acl(api: httpx.Client) -> None:
    invalid = api.get("/api/now/table/sn_apo_invoice")
    assert invalid.status_code == 400
    assert invalid.json()["error"] == {
        "message": "Invalid table sn_apo_invoice",
        "detail": "Table sn_apo_invoice does not exist",
    }
    refused = api.post("/api/now/table/sn_fin_gl_account", json={"number": "9999", "name": "Nope"})
    assert refused.status_code == 403
    assert refused.json()["status"] == "failure"
    assert "ACL" in refused.json()["error"]["detail"]
    numbers = [r["number"] for r in api.get("/api/now/table/sn_fin_gl_account").json()["result"]]
    assert "9999" not in numbers


def _names(api: httpx.Client, table: str, query: str, field: str = "name") -> list[str]:
    response = api.get(f"/api/now/table/{table}", params={"sysparm_query": query})
    assert response.status_code == 200
    return [r[field] for r in response.json()["result"]]


@pytest.fixture(scope="module")
def query_suppliers(api: httpx.Client) -> list[str]:
    """Suppliers with awkward names for the query tests."""
    names = ["Acme Widgets", "Acme^ORactive=false", "Beta Acme", "Gamma Ltd"]
    for index, name in enumerate(names):
        created = api.post(
            "/api/now/table/sn_fin_supplier",
            json={"name": name, "erp_supplier_code": f"Q-{index}", "active": "true"},
        )
        assert created.status_code == 201
    api.post(
        "/api/now/table/sn_fin_supplier",
        json={"name": "Dormant Co", "erp_supplier_code": "Q-9", "active": "false"},
    )
    return names


def test_encoded_query_operators(api: httpx.Client, query_suppliers: list[str]) -> None:
    table = "sn_fin_supplier"
    assert _names(api, table, "name=Acme Widgets") == ["Acme Widgets"]
    assert set(_names(api, table, "name=Acme Widgets^ORname=Gamma Ltd")) == {"Acme Widgets", "Gamma Ltd"}
    assert set(_names(api, table, "erp_supplier_codeINQ-0,Q-3")) == {"Acme Widgets", "Gamma Ltd"}
    assert "Acme Widgets" not in _names(api, table, "erp_supplier_codeNOT INQ-0,Q-3")
    assert set(_names(api, table, "nameSTARTSWITHAcme^erp_supplier_codeSTARTSWITHQ-")) == {
        "Acme Widgets",
        "Acme^ORactive=false",
    }
    assert _names(api, table, "nameENDSWITHAcme") == ["Beta Acme"]
    assert set(_names(api, table, "nameLIKEAcme^erp_supplier_codeSTARTSWITHQ-")) == {
        "Acme Widgets",
        "Acme^ORactive=false",
        "Beta Acme",
    }
    assert "Beta Acme" not in _names(api, table, "nameNOT LIKEAcme")
    assert _names(api, table, "erp_supplier_codeSTARTSWITHQ-^ORDERBYDESCname")[0] == "Gamma Ltd"
    assert _names(api, table, "erp_supplier_codeSTARTSWITHQ-^ORDERBYname")[0] == "Acme Widgets"
    assert set(_names(api, table, "name=Gamma Ltd^NQname=Beta Acme")) == {"Gamma Ltd", "Beta Acme"}
    assert _names(api, table, "erp_supplier_code=Q-0^websiteISEMPTY") == ["Acme Widgets"]
    assert _names(api, table, "erp_supplier_code=Q-0^websiteISNOTEMPTY") == []
    assert _names(
        api, table, "erp_supplier_code!=Q-0^erp_supplier_codeSTARTSWITHQ-^active=true^ORDERBYname"
    ) == ["Acme^ORactive=false", "Beta Acme", "Gamma Ltd"]


def test_invalid_term_is_ignored(api: httpx.Client, query_suppliers: list[str]) -> None:
    assert _names(api, "sn_fin_supplier", "no_such_column=1^name=Gamma Ltd") == ["Gamma Ltd"]


def test_caret_injection_escaped_matches_exactly_one_row(
    api: httpx.Client, query_suppliers: list[str]
) -> None:
    escaped = _names(api, "sn_fin_supplier", "name=Acme^^ORactive=false")
    unescaped = _names(api, "sn_fin_supplier", "name=Acme^ORactive=false")
    assert escaped == ["Acme^ORactive=false"]
    # Unescaped, the value splits into name=Acme OR active=false: it widens to the inactive supplier.
    assert "Dormant Co" in unescaped
    assert "Acme^ORactive=false" not in unescaped


def test_seeded_hostile_vendor_name_is_matched_only_when_escaped(
    api: httpx.Client, company: Company, query_suppliers: list[str]
) -> None:
    hostile = next(v for v in company.vendors if "^" in v.name and v.exists_in_servicenow)
    escaped = _names(api, "sn_fin_supplier", "name=" + hostile.name.replace("^", "^^"))
    assert escaped == [hostile.name]
    unescaped = _names(api, "sn_fin_supplier", "name=" + hostile.name)
    assert hostile.name not in unescaped
    inactive = _names(api, "sn_fin_supplier", "active=false")
    assert inactive
    assert unescaped == inactive


def test_dot_walk_query(api: httpx.Client, company: Company) -> None:
    office = company.offices[0]
    rows = _names(api, "cmn_cost_center", f"location.name={office.name}")
    expected = {
        c.name
        for c in company.cost_centers
        if c.exists_in_servicenow and c.office_location_id == office.location_id
    }
    assert set(rows) == expected
    assert rows


def test_v1_empty_list_is_404_and_v2_is_empty(api: httpx.Client) -> None:
    params = {"sysparm_query": "name=does not exist"}
    assert api.get("/api/now/v1/table/sn_fin_supplier", params=params).status_code == 404
    v2 = api.get("/api/now/v2/table/sn_fin_supplier", params=params)
    assert v2.status_code == 200
    assert v2.json() == {"result": []}
    assert v2.headers["X-Total-Count"] == "0"


def test_no_count_omits_total(api: httpx.Client) -> None:
    response = api.get("/api/now/table/fx_currency", params={"sysparm_no_count": "true", "sysparm_limit": 1})
    assert response.status_code == 200
    assert "X-Total-Count" not in response.headers
    assert 'rel="last"' not in response.headers["Link"]


def test_admin_table_dump_and_reset(api: httpx.Client, sandbox: ServiceNowSandbox) -> None:
    api.post("/api/now/table/cmn_location", json={"name": "Scratch office"})
    dump = httpx.get(f"{sandbox.url}/_admin/tables/cmn_location").json()["result"]
    assert "Scratch office" in {r["name"] for r in dump}
    before = {r["sys_id"] for r in api.get("/api/now/table/sn_fin_erp_source").json()["result"]}
    assert httpx.post(f"{sandbox.url}/_admin/reset").status_code == 200
    token = httpx.post(
        f"{sandbox.url}/oauth_token.do",
        data={
            "grant_type": "client_credentials",
            "client_id": "zbsn-demo-client",
            "client_secret": "zbsn-demo-secret",
        },
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.get("/api/now/table/fx_currency").status_code == 401  # tokens are forgotten on reset
    names = {
        r["name"]
        for r in httpx.get(f"{sandbox.url}/api/now/table/cmn_location", headers=headers).json()["result"]
    }
    assert "Scratch office" not in names
    assert names
    after = httpx.get(f"{sandbox.url}/api/now/table/sn_fin_erp_source", headers=headers).json()["result"]
    assert {r["sys_id"] for r in after} == before  # deterministic reseed
    api.headers["Authorization"] = headers["Authorization"]
