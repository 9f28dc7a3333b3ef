"""Every fault kind is observable over HTTP, and the draw is reproducible from the seed."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.zoho.conftest import Books, new_tokens, refresh
from zbsn.sandbox.zoho import ZohoSandbox


@pytest.fixture
def books(fresh: ZohoSandbox) -> Books:
    return Books(fresh, new_tokens(fresh)["access_token"])


def _always(sandbox: ZohoSandbox, kind: str) -> None:
    sandbox.set_faults(fault_rate=1.0, kinds={kind: 1.0}, seed=1)


def test_error_5xx(books: Books) -> None:
    _always(books.sandbox, "error_5xx")
    response = books.get("/bills")
    assert response.status_code == 500
    assert response.json() == {"code": 1000, "message": "Internal error"}
    assert books.sandbox.counters()["faults"]["injected"] == {"error_5xx": 1}


def test_dropped_connection(books: Books) -> None:
    _always(books.sandbox, "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        books.get("/locations")


def test_slow_response(books: Books) -> None:
    books.sandbox.set_faults(fault_rate=1.0, kinds={"slow": 1.0}, slow_ms=600)
    started = time.monotonic()
    response = books.get("/locations")
    assert time.monotonic() - started >= 0.55
    assert response.status_code == 200
    assert len(response.json()["locations"]) == 3


def test_latency_applies_to_every_request(books: Books) -> None:
    books.sandbox.set_faults(latency_ms=300)
    started = time.monotonic()
    assert books.get("/locations").status_code == 200
    assert time.monotonic() - started >= 0.28


def test_duplicate_page(books: Books) -> None:
    page1 = books.get("/bills", per_page=10, page=1).json()["bills"]
    _always(books.sandbox, "duplicate_page")
    page2 = books.get("/bills", per_page=10, page=2).json()["bills"]
    assert page2[0]["bill_id"] == page1[-1]["bill_id"]
    assert len(page2) == 10


def test_deleted_account(books: Books) -> None:
    bill = next(b for b in books.sandbox.state.company.bills if not b.defect)
    _always(books.sandbox, "deleted_account")
    line = books.get(f"/bills/{bill.bill_id}").json()["bill"]["line_items"][0]
    assert line["account_id"] not in books.sandbox.state.accounts


def test_malformed_records(books: Books) -> None:
    bill = next(b for b in books.sandbox.state.company.bills if not b.defect)
    _always(books.sandbox, "malformed")
    rate = books.get(f"/bills/{bill.bill_id}").json()["bill"]["line_items"][0]["rate"]
    assert isinstance(rate, str)
    rows = books.get("/bills", per_page=10).json()["bills"]
    assert sum(isinstance(r["total"], str) for r in rows) == 1
    payment = next(iter(books.sandbox.state.payments))
    assert isinstance(books.get(f"/vendorpayments/{payment}").json()["vendorpayment"]["amount"], str)


def test_token_revocation(fresh: ZohoSandbox) -> None:
    tokens = new_tokens(fresh)
    books = Books(fresh, tokens["access_token"])
    _always(fresh, "revoke_token")
    response = books.get("/locations")
    assert response.status_code == 401
    assert response.json()["code"] == 57
    fresh.set_faults(fault_rate=0.0)
    assert books.get("/locations").status_code == 401
    assert refresh(fresh, tokens["refresh_token"]).json() == {"error": "invalid_code"}


def test_fault_rate_and_seed_are_reproducible(books: Books) -> None:
    def run() -> list[int]:
        books.sandbox.set_faults(fault_rate=0.4, kinds={"error_5xx": 1.0}, seed=99)
        return [books.get("/locations").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(500) < 30
    books.sandbox.set_faults(seed=100)
    assert [books.get("/locations").status_code for _ in range(30)] != first


def test_unknown_fault_kind_is_rejected(fresh: ZohoSandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        fresh.set_faults(kinds={"meteor": 1.0})


def test_faults_aimed_at_one_list_from_its_second_page(books: Books) -> None:
    books.sandbox.set_faults(
        fault_rate=1.0, kinds={"error_5xx": 1.0}, endpoints=["GET /vendorpayments"], from_page=2, seed=1
    )
    first = books.get("/vendorpayments", per_page=10, page=1)
    assert first.status_code == 200
    assert first.json()["page_context"]["has_more_page"] is True
    assert books.get("/vendorpayments", per_page=10, page=2).status_code == 500
    assert books.get("/bills", per_page=10, page=2).status_code == 200  # another endpoint: spared
    snapshot = books.sandbox.counters()["faults"]
    assert (snapshot["injected"], snapshot["endpoints"], snapshot["from_page"]) == (
        {"error_5xx": 1},
        ["GET /vendorpayments"],
        2,
    )
    settings = httpx.put(books.sandbox.admin_url + "/faults", json={"endpoints": [], "from_page": 1}).json()
    assert (settings["endpoints"], settings["from_page"]) == ([], 1)
    assert books.get("/vendorpayments", per_page=10, page=2).status_code == 500  # now every endpoint
    assert books.get("/bills", per_page=10, page=1).status_code == 500
