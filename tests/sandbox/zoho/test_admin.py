"""The `/_admin` HTTP surface mirrors the Python API."""

from __future__ import annotations

import httpx

from tests.sandbox.zoho.conftest import Books, exchange_code, new_tokens
from zbsn.sandbox.zoho import ZohoSandbox


def test_state_urls_and_clock(fresh: ZohoSandbox) -> None:
    state = httpx.get(fresh.admin_url + "/state").json()
    assert state["organization_id"] == fresh.organization_id
    assert state["bills"] == 60
    assert state["urls"]["ca"]["accounts"] == fresh.urls["ca"].accounts_url
    before = fresh.clock.now()
    after = httpx.post(fresh.admin_url + "/clock/advance", json={"seconds": 7200}).json()["now"]
    assert (fresh.clock.now() - before).total_seconds() >= 7200
    assert after > before.isoformat()


def test_bill_lifecycle_bumps_last_modified_time(fresh: ZohoSandbox) -> None:
    books = Books(fresh, new_tokens(fresh)["access_token"])
    vendor = next(iter(fresh.state.vendors))
    account = next(a.account_id for a in fresh.state.accounts.values() if a.account_type == "expense")
    created = httpx.post(
        fresh.admin_url + "/bills",
        json={"vendor_id": vendor, "line_items": [{"account_id": account, "rate": 80}]},
    ).json()
    bill_id = created["bill"]["bill_id"]
    first_stamp = created["bill"]["last_modified_time"]
    fresh.advance(5)
    edited = httpx.put(fresh.admin_url + f"/bills/{bill_id}", json={"reference_number": "R-9"}).json()
    assert edited["bill"]["last_modified_time"] > first_stamp
    changed = books.get("/bills", last_modified_time=edited["bill"]["last_modified_time"]).json()["bills"]
    assert [b["bill_id"] for b in changed] == [bill_id]
    paid = httpx.post(
        fresh.admin_url + "/vendorpayments", json={"bills": [{"bill_id": bill_id, "amount_applied": 80}]}
    ).json()
    assert paid["vendorpayment"]["amount"] == 80
    assert books.get(f"/bills/{bill_id}").json()["bill"]["status"] == "paid"
    refused = httpx.delete(fresh.admin_url + f"/bills/{bill_id}")
    assert refused.status_code == 400
    other = next(b.bill_id for b in fresh.state.company.bills if b.status == "open" and not b.defect)
    assert httpx.post(fresh.admin_url + f"/bills/{other}/void").json()["bill"]["status"] == "void"
    assert httpx.delete(fresh.admin_url + f"/bills/{other}").status_code == 200
    assert books.get(f"/bills/{other}").json()["code"] == 1002
    assert httpx.put(fresh.admin_url + "/bills/1", json={}).status_code == 404


def test_self_client_code_revoke_counters_faults_limits_reset(fresh: ZohoSandbox) -> None:
    issued = httpx.post(fresh.admin_url + "/oauth/selfclient", json={"ttl_seconds": 600}).json()
    assert issued["accounts_server"] == fresh.accounts_url
    tokens = exchange_code(fresh, issued["code"])
    books = Books(fresh, tokens["access_token"])
    assert books.get("/locations").status_code == 200
    assert httpx.post(fresh.admin_url + "/oauth/revoke", json={"token": tokens["refresh_token"]}).json() == {
        "revoked": 1
    }
    assert books.get("/locations").status_code == 401
    faults = httpx.put(
        fresh.admin_url + "/faults", json={"fault_rate": 0.5, "kinds": {"error_5xx": 1}}
    ).json()
    assert faults["fault_rate"] == 0.5
    limits = httpx.put(fresh.admin_url + "/limits", json={"per_window": 7}).json()
    assert limits["per_window"] == 7
    assert fresh.config.limits.per_window == 7
    assert httpx.put(fresh.admin_url + "/limits", json={"nope": 1}).status_code == 400
    counters = httpx.get(fresh.admin_url + "/counters").json()
    assert counters["api"]["by_endpoint"]["GET /locations"] == 2
    assert counters["api"]["statuses"] == {"200": 1, "401": 1}
    reset = httpx.post(fresh.admin_url + "/reset", json={"seed": 3, "bills": 80}).json()
    assert reset["bills"] == 80
    assert reset["seed"] == 3


def test_register_client_and_webhook_config(fresh: ZohoSandbox) -> None:
    registered = httpx.post(
        fresh.admin_url + "/oauth/clients",
        json={
            "client_id": "1000.OTHER",
            "client_secret": "other-secret",
            "redirect_uris": ["https://app.example/cb"],
        },
    )
    assert registered.json() == {"client_id": "1000.OTHER"}
    consent = httpx.get(
        fresh.accounts_url + "/oauth/v2/auth",
        params={
            "client_id": "1000.OTHER",
            "scope": "ZohoBooks.bills.READ",
            "response_type": "code",
            "redirect_uri": "https://app.example/cb",
        },
    )
    assert consent.status_code == 302
    assert consent.headers["location"].startswith("https://app.example/cb?code=")
    config = httpx.put(
        fresh.admin_url + "/webhooks",
        json={"url": "http://127.0.0.1:9/h", "secret": "abc", "events": ["bill.edited"]},
    ).json()
    assert config["url"] == "http://127.0.0.1:9/h"
    assert config["events"] == ["bill.edited"]


def test_a_bill_returned_to_draft_and_a_deleted_payment(fresh: ZohoSandbox) -> None:
    books = Books(fresh, new_tokens(fresh)["access_token"])
    bill = next(b for b in fresh.state.company.bills if b.status == "open" and not b.defect)
    stamp = books.get(f"/bills/{bill.bill_id}").json()["bill"]["last_modified_time"]
    fresh.advance(5)
    draft = httpx.post(fresh.admin_url + f"/bills/{bill.bill_id}/draft", json={}).json()["bill"]
    assert (draft["status"], draft["last_modified_time"] > stamp) == ("draft", True)
    assert httpx.post(fresh.admin_url + f"/bills/{bill.bill_id}/draft", json={}).status_code == 400  # already
    approved = httpx.post(fresh.admin_url + f"/bills/{bill.bill_id}/approve").json()["bill"]
    assert approved["status"] in ("open", "overdue")
    pending = httpx.post(
        fresh.admin_url + f"/bills/{bill.bill_id}/draft", json={"status": "pending_approval"}
    )
    assert pending.json()["bill"]["status"] == "pending_approval"
    fresh.approve_bill(bill.bill_id)

    total = str(fresh.state.totals[bill.bill_id])
    paid = httpx.post(
        fresh.admin_url + "/vendorpayments",
        json={"bills": [{"bill_id": bill.bill_id, "amount_applied": total}]},
    ).json()["vendorpayment"]
    assert httpx.post(fresh.admin_url + f"/bills/{bill.bill_id}/draft", json={}).status_code == 400  # paid
    listed = {p["payment_id"] for p in books.get("/vendorpayments").json()["vendorpayments"]}
    assert paid["payment_id"] in listed
    fresh.advance(5)
    deleted = httpx.delete(fresh.admin_url + f"/vendorpayments/{paid['payment_id']}")
    assert deleted.json() == {"deleted": paid["payment_id"]}
    listed = {p["payment_id"] for p in books.get("/vendorpayments").json()["vendorpayments"]}
    assert paid["payment_id"] not in listed
    assert books.get(f"/vendorpayments/{paid['payment_id']}").json()["code"] == 1002
    detail = books.get(f"/bills/{bill.bill_id}").json()["bill"]
    assert detail["status"] in ("open", "overdue")  # owed again
    assert detail["last_modified_time"] > draft["last_modified_time"]
    state = httpx.get(fresh.admin_url + "/state").json()
    assert state["deleted_payment_ids"] == [paid["payment_id"]]
    assert httpx.delete(fresh.admin_url + f"/vendorpayments/{paid['payment_id']}").status_code == 404
