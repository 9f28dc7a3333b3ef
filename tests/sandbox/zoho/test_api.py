"""Books v3 endpoints: envelope, pagination, list vs detail, filters, quirks, writes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from tests.sandbox.zoho.conftest import Books, new_tokens
from zbsn.sandbox.company_generator import DELETED_ACCOUNT_ID, MISSING_VENDOR_NAME
from zbsn.sandbox.zoho import ZohoSandbox

ZOHO_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$")


def _walk(books: Books, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = books.get(path, page=page, **params).json()
        assert body["code"] == 0
        rows += body[key]
        if not body["page_context"]["has_more_page"]:
            return rows
        page += 1


def test_organizations(books: Books) -> None:
    body = books.client.get(books.sandbox.books_base + "/organizations", headers=books.headers()).json()
    assert body["code"] == 0
    assert body["message"] == "success"
    org = body["organizations"][0]
    assert org["organization_id"] == books.sandbox.organization_id
    assert org["time_zone"] == "Europe/London"
    assert org["plan_name"] == "Professional"
    one = books.get(f"/organizations/{books.sandbox.organization_id}").json()
    assert one["organization"]["name"] == org["name"]


def test_missing_and_unknown_organization_id(books: Books) -> None:
    url = books.sandbox.books_base + "/bills"
    missing = books.client.get(url, headers=books.headers())
    assert missing.status_code == 400
    assert missing.json()["code"] == 2
    unknown = books.client.get(url, params={"organization_id": "1"}, headers=books.headers())
    assert unknown.status_code == 401
    assert unknown.json()["code"] == 57


def test_bill_pagination_covers_everything_once(books: Books) -> None:
    first = books.get("/bills", per_page=50, page=1).json()
    assert first["page_context"] == {
        "page": 1,
        "per_page": 50,
        "has_more_page": True,
        "report_name": "Bills",
        "applied_filter": "Status.All",
        "custom_fields": [],
        "sort_column": "created_time",
        "sort_order": "D",
        "search_criteria": [],
    }
    last = books.get("/bills", per_page=50, page=4).json()
    assert last["page_context"]["has_more_page"] is False
    assert len(last["bills"]) == 50
    assert books.get("/bills", per_page=50, page=5).json()["bills"] == []
    ids = [
        b["bill_id"] for b in _walk(books, "/bills", "bills", per_page=30, sort_column="date", sort_order="A")
    ]
    assert len(ids) == len(set(ids)) == 200


def test_per_page_is_clamped_to_200() -> None:
    from tests.sandbox.zoho.conftest import start
    from zbsn.sandbox.zoho import SandboxConfig

    sandbox = start(SandboxConfig(bills=250))
    try:
        body = Books(sandbox, new_tokens(sandbox)["access_token"]).get("/bills", per_page=1000).json()
        assert body["page_context"]["per_page"] == 200
        assert len(body["bills"]) == 200
        assert body["page_context"]["has_more_page"] is True
    finally:
        sandbox.stop()


def test_list_has_no_line_items_detail_has(books: Books) -> None:
    row = books.get("/bills", per_page=1).json()["bills"][0]
    assert "line_items" not in row
    assert isinstance(row["bill_id"], str)
    assert len(row["bill_id"]) == 18
    assert ZOHO_TS.match(row["last_modified_time"])
    assert row["last_modified_time_formatted"]
    assert row["is_opening_balance"] == row["bill_id"]
    bill = books.get(f"/bills/{row['bill_id']}").json()["bill"]
    assert bill["line_items"]
    line = bill["line_items"][0]
    for key in ("account_id", "account_name", "account_code", "tags", "location_id", "location_name"):
        assert key in line
    tag = line["tags"][0]
    assert set(tag) >= {"tag_id", "tag_name", "tag_option_id", "tag_option_name"}
    assert tag["tag_name"] == "Cost Center"
    assert bill["account_name"] == "Accounts Payable"


def test_detail_totals_payments_and_quirks(books: Books) -> None:
    sandbox = books.sandbox
    paid = next(b for b in sandbox.state.company.bills if b.status == "paid")
    bill = books.get(f"/bills/{paid.bill_id}").json()["bill"]
    assert bill["balance"] == 0
    assert bill["payments"]
    assert round(sum(p["amount"] for p in bill["payments"]), 2) == bill["total"]
    assert round(bill["sub_total"] + bill["tax_total"], 2) == bill["total"]
    open_bill = next(b for b in sandbox.state.company.bills if b.status == "open" and not b.defect)
    detail = books.get(f"/bills/{open_bill.bill_id}").json()["bill"]
    assert detail["payments"] == []
    assert detail["balance"] == detail["total"]
    assert detail["recurring_bill_id"] == ""  # empties are "" not null


def test_defective_bills_render_their_defect(books: Books) -> None:
    bills = {b.defect: b for b in books.sandbox.state.company.bills if b.defect}
    deleted = books.get(f"/bills/{bills['deleted_account'].bill_id}").json()["bill"]
    assert deleted["line_items"][0]["account_id"] == DELETED_ACCOUNT_ID
    chart = {
        a["account_id"]
        for a in books.get("/chartofaccounts", filter_by="AccountType.All").json()["chartofaccounts"]
    }
    assert DELETED_ACCOUNT_ID not in chart
    malformed = books.get(f"/bills/{bills['malformed_amount'].bill_id}").json()["bill"]
    rate = malformed["line_items"][0]["rate"]
    assert isinstance(rate, str)
    assert not rate.replace(".", "").isdigit()
    orphan = books.get(f"/bills/{bills['missing_vendor'].bill_id}").json()["bill"]
    assert orphan["vendor_name"] == MISSING_VENDOR_NAME
    assert books.get(f"/contacts/{orphan['vendor_id']}").json()["code"] == 1002


def test_unknown_bill_is_1002(books: Books) -> None:
    response = books.get("/bills/460237000000999999")
    assert response.status_code == 404
    assert response.json() == {"code": 1002, "message": "Bill does not exist."}


def test_status_filter_and_sort(books: Books) -> None:
    void = books.get("/bills", filter_by="Status.Void").json()["bills"]
    assert void
    assert all(b["status"] == "void" for b in void)
    totals = [b["total"] for b in books.get("/bills", sort_column="total", sort_order="A").json()["bills"]]
    assert totals == sorted(totals)
    bad = books.get("/bills", sort_column="last_modified_time")
    assert bad.status_code == 400
    assert bad.json()["code"] == 2


def test_last_modified_time_filter_is_inclusive(books: Books) -> None:
    rows = _walk(books, "/bills", "bills")
    stamps = sorted(r["last_modified_time"] for r in rows)
    cursor = stamps[len(stamps) // 2]
    since = _walk(books, "/bills", "bills", last_modified_time=cursor)
    parse = dt.datetime.fromisoformat
    expected = [r for r in rows if parse(r["last_modified_time"]) >= parse(cursor)]
    assert {r["bill_id"] for r in since} == {r["bill_id"] for r in expected}
    assert 0 < len(since) < len(rows)


def test_date_range_filter(books: Books) -> None:
    rows = books.get("/bills", date_start="2026-08-01", date_end="2026-08-31").json()["bills"]
    assert rows
    assert all("2026-08-01" <= r["date"] <= "2026-08-31" for r in rows)


def test_contacts_ignore_last_modified_time(books: Books) -> None:
    everything = books.get("/contacts", contact_type="vendor").json()
    filtered = books.get(
        "/contacts", contact_type="vendor", last_modified_time="2099-01-01T00:00:00+0000"
    ).json()
    assert len(everything["contacts"]) == len(filtered["contacts"]) == len(books.sandbox.state.vendors)
    vendor = everything["contacts"][0]
    assert vendor["contact_type"] == "vendor"
    assert "cf_supplier_code" in vendor["custom_field_hash"]
    detail = books.get(f"/contacts/{vendor['contact_id']}").json()["contact"]
    assert detail["tax_reg_no"]
    assert detail["contact_persons"]


def test_vendor_payments_list_and_detail(books: Books) -> None:
    rows = _walk(books, "/vendorpayments", "vendorpayments")
    assert len(rows) == len(books.sandbox.state.payments)
    assert "bills" not in rows[0]
    double = next(p for p in books.sandbox.state.company.payments if len(p.allocations) == 2)
    detail = books.get(f"/vendorpayments/{double.payment_id}").json()["vendorpayment"]
    assert [b["bill_id"] for b in detail["bills"]] == [a.bill_id for a in double.allocations]
    assert all(b["bill_payment_id"] for b in detail["bills"])
    cursor = sorted(r["last_modified_time"] for r in rows)[-3]
    recent = books.get("/vendorpayments", last_modified_time=cursor).json()["vendorpayments"]
    assert 3 <= len(recent) < len(rows)


def test_chart_of_accounts_filters(books: Books) -> None:
    everything = books.get("/chartofaccounts", filter_by="AccountType.All").json()
    assert everything["page_context"]["per_page"] == 5000
    codes = {a["account_code"] for a in everything["chartofaccounts"]}
    assert {"6100", "2100"} <= codes
    liabilities = books.get("/chartofaccounts", filter_by="AccountType.Liability").json()["chartofaccounts"]
    assert "accounts_payable" in {a["account_type"] for a in liabilities}
    assert "expense" not in {a["account_type"] for a in liabilities}


def test_reporting_tags_and_locations(books: Books) -> None:
    tags = books.get("/reportingtags").json()["reporting_tags"]
    assert [t["tag_name"] for t in tags] == ["Cost Center"]
    detail = books.get(f"/reportingtags/{tags[0]['tag_id']}").json()["reporting_tag"]
    numbers = {o["description"] for o in detail["tag_options"]}
    assert len(numbers) == 8
    assert "CC-LON-100" in numbers
    options = books.get(f"/reportingtags/{tags[0]['tag_id']}/options").json()["tag_options"]
    assert len(options) == 8
    legacy = books.get("/settings/tags").json()["reporting_tags"]
    assert legacy[0]["tag_id"] == tags[0]["tag_id"]
    assert books.get(f"/settings/tags/{tags[0]['tag_id']}").json()["tag"]["tag_options"]
    locations = books.get("/locations").json()["locations"]
    assert len(locations) == 3
    assert sum(loc["is_primary"] for loc in locations) == 1


def test_rate_headers_on_every_api_response(books: Books) -> None:
    response = books.get("/locations")
    assert int(response.headers["X-Rate-Limit-Limit"]) == 5000
    assert 0 < int(response.headers["X-Rate-Limit-Remaining"]) < 5000
    assert 0 < int(response.headers["X-Rate-Limit-Reset"]) <= 86400
    assert response.headers["content-type"].startswith("application/json")


def test_writes_accept_json_and_jsonstring(fresh: ZohoSandbox) -> None:
    books = Books(fresh, exchange_token_with_writes(fresh))
    vendor = next(iter(fresh.state.vendors))
    account = next(a.account_id for a in fresh.state.accounts.values() if a.account_type == "expense")
    body = {
        "vendor_id": vendor,
        "bill_number": "W-1",
        "date": "2026-11-02",
        "line_items": [{"account_id": account, "rate": 100, "quantity": 2}],
    }
    params = {"organization_id": fresh.organization_id}
    created = books.client.post(
        fresh.books_base + "/bills", params=params, json=body, headers=books.headers()
    )
    assert created.status_code == 201
    assert created.json()["bill"]["total"] == 200
    import json

    form = books.client.post(
        fresh.books_base + "/bills",
        params=params,
        headers=books.headers(),
        data={"JSONString": json.dumps({**body, "bill_number": "W-2"})},
    )
    assert form.status_code == 201
    assert form.json()["bill"]["bill_number"] == "W-2"
    broken = books.client.post(
        fresh.books_base + "/bills", params=params, headers=books.headers(), data={"JSONString": "{not json"}
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == 1038
    bill_id = created.json()["bill"]["bill_id"]
    updated = books.client.put(
        fresh.books_base + f"/bills/{bill_id}",
        params=params,
        headers=books.headers(),
        json={"reference_number": "PO-1"},
    )
    assert updated.json()["message"] == "Bill information has been updated."
    deleted = httpx.delete(fresh.books_base + f"/bills/{bill_id}", params=params, headers=books.headers())
    assert deleted.json() == {"code": 0, "message": "The bill has been deleted."}
    assert books.get(f"/bills/{bill_id}").json()["code"] == 1002


def exchange_token_with_writes(sandbox: ZohoSandbox) -> str:
    from tests.sandbox.zoho.conftest import exchange_code

    return str(exchange_code(sandbox, sandbox.self_client_code("ZohoBooks.fullaccess.all"))["access_token"])


def test_default_org_fallback_is_opt_in() -> None:
    from tests.sandbox.zoho.conftest import start
    from zbsn.sandbox.zoho import SandboxConfig

    sandbox = start(SandboxConfig(bills=50, default_org_fallback=True))
    try:
        books = Books(sandbox, new_tokens(sandbox)["access_token"])
        response = books.client.get(sandbox.books_base + "/bills", headers=books.headers())
        assert response.status_code == 200
        assert len(response.json()["bills"]) == 50
    finally:
        sandbox.stop()


def test_admin_changes_keep_the_company_in_step(fresh: ZohoSandbox) -> None:
    vendor = next(iter(fresh.state.vendors))
    account = next(a.account_id for a in fresh.state.accounts.values() if a.account_type == "expense")
    bill = fresh.add_bill({"vendor_id": vendor, "line_items": [{"account_id": account, "rate": 5}]})
    assert fresh.state.company.bills[-1] is bill
    fresh.delete_bill(bill.bill_id)
    assert bill not in fresh.state.company.bills
    assert len(fresh.state.company.bills) == 60
