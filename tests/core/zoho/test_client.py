"""The Books client: envelopes, pagination with dedupe and loop detection, per-record errors, parameters."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from tests.core.zoho.fakes import FakeZoho, bill, error, ok
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.core.zoho.errors import ZohoApiError, ZohoNotFound, ZohoPaginationError
from zbsn.core.zoho.models import RecordError, ZohoBill, ZohoBillSummary


@pytest.mark.parametrize(
    ("response", "expected", "code"),
    [
        (error(400, 2, "Invalid value passed for per_page"), ZohoApiError, 2),
        (error(404, 1002, "Bill does not exist."), ZohoNotFound, 1002),
        (error(400, 1002, "Bill does not exist."), ZohoNotFound, 1002),
        (error(404, 5, "Invalid URL Passed"), ZohoNotFound, 5),
        (error(200, 9017, "This user is not associated with any organization."), ZohoApiError, 9017),
        (httpx.Response(200, content=b"[]"), ZohoApiError, None),
    ],
    ids=["400", "404-1002", "400-1002", "404", "200-nonzero", "not-an-object"],
)
async def test_error_envelopes_raise_typed_errors(
    fake: FakeZoho,
    client: ZohoBooksClient,
    response: httpx.Response,
    expected: type[ZohoApiError],
    code: int | None,
) -> None:
    fake.api_script = [response]
    with pytest.raises(expected) as caught:
        await client.get_bill("9000000001")
    assert caught.value.code == code
    assert caught.value.http_status == response.status_code


async def test_bill_walk_sends_zoho_parameters_and_keeps_the_raw_cursor(
    fake: FakeZoho, client: ZohoBooksClient
) -> None:
    bills = [
        b
        async for b in client.iter_bills(
            modified_since="2026-06-09T13:17:42-0400",
            date_start=date(2026, 1, 1),
            date_end=date(2026, 12, 31),
        )
    ]
    params = dict(fake.api_requests[0].url.params)
    assert params == {
        "sort_column": "created_time",
        "sort_order": "A",
        "last_modified_time": "2026-06-09T13:17:42-0400",
        "date_start": "2026-01-01",
        "date_end": "2026-12-31",
        "page": "1",
        "per_page": "200",
        "organization_id": "20000001",
    }
    assert fake.api_requests[0].url.host == "www.zohoapis.eu"
    assert fake.api_requests[0].url.path == "/books/v3/bills"
    assert all(isinstance(b, ZohoBillSummary) for b in bills)
    first = bills[0]
    assert isinstance(first, ZohoBillSummary)
    assert first.last_modified_time_raw == "2026-06-09T13:17:42+0200"


async def test_walk_follows_has_more_page(fake: FakeZoho, client: ZohoBooksClient) -> None:
    fake.bills = [bill(n) for n in range(1, 451)]
    fake.per_page_cap = 200
    ids = [b.bill_id async for b in client.iter_bills() if isinstance(b, ZohoBillSummary)]
    assert len(ids) == len(set(ids)) == 450
    assert [r.url.params["page"] for r in fake.api_requests] == ["1", "2", "3"]
    assert client.last_walk.pages == 3


async def test_a_bill_repeated_on_the_next_page_is_yielded_once(
    fake: FakeZoho, client: ZohoBooksClient
) -> None:
    fake.bills = [bill(n) for n in range(1, 11)]
    fake.per_page_cap = 4
    client.per_page = 4

    def repeat_last_of_previous(page: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if page == 1:
            return rows
        previous = fake.bills[(page - 1) * 4 - 1]
        return [{**previous, "last_modified_time": "2026-06-10T08:00:00+0200"}, *rows]

    fake.page_override = repeat_last_of_previous
    ids = [b.bill_id async for b in client.iter_bills() if isinstance(b, ZohoBillSummary)]
    assert ids == [f"9000{n:06d}" for n in range(1, 11)]
    assert client.last_walk.duplicates == 2
    assert client.last_walk.newer_duplicates == {
        "9000000004": "2026-06-10T08:00:00+0200",
        "9000000008": "2026-06-10T08:00:00+0200",
    }


async def test_a_malformed_record_is_a_record_error_and_the_page_goes_on(
    fake: FakeZoho, client: ZohoBooksClient
) -> None:
    fake.bills = [bill(1), bill(2, total="12,3x"), "not a bill", bill(3, created_time="yesterday"), bill(4)]  # type: ignore[list-item]
    records = [b async for b in client.iter_bills()]
    assert [type(r).__name__ for r in records] == [
        "ZohoBillSummary",
        "RecordError",
        "RecordError",
        "RecordError",
        "ZohoBillSummary",
    ]
    errors = [r for r in records if isinstance(r, RecordError)]
    assert [(e.entity, e.record_id) for e in errors] == [
        ("bill", "9000000002"),
        ("bill", None),
        ("bill", "9000000003"),
    ]
    assert "total" in errors[0].reason
    assert errors[0].raw["total"] == "12,3x"


async def test_a_page_served_twice_stops_the_walk(fake: FakeZoho, client: ZohoBooksClient) -> None:
    fake.bills = [bill(n) for n in range(1, 7)]
    fake.per_page_cap = 2
    client.per_page = 2
    fake.page_override = lambda page, rows: fake.bills[0:2]  # the page parameter is ignored
    with pytest.raises(ZohoPaginationError, match="repeats"):
        _ = [b async for b in client.iter_bills()]


async def test_zoho_answering_another_page_number_stops_the_walk(
    fake: FakeZoho, client: ZohoBooksClient
) -> None:
    fake.api_script = [
        ok({"bills": [bill(1)], "page_context": {"page": 1, "has_more_page": True}}),
        ok({"bills": [bill(2)], "page_context": {"page": 1, "has_more_page": True}}),
    ]
    with pytest.raises(ZohoPaginationError, match="answered page 1"):
        _ = [b async for b in client.iter_bills()]


async def test_get_bill_returns_lines_and_not_found_raises(fake: FakeZoho, client: ZohoBooksClient) -> None:
    fake.bills = [bill(1)]
    line = {"line_item_id": "1", "account_id": "2", "rate": 10, "quantity": 2, "tags": [{"tag_id": "7"}]}
    fake.api_script = [ok({"bill": {**bill(1), "line_items": [line]}})]
    found = await client.get_bill("9000000001")
    assert isinstance(found, ZohoBill)
    assert found.line_items[0].tags[0].tag_id == "7"
    with pytest.raises(ZohoNotFound):
        await client.get_bill("404")


async def test_a_malformed_detail_is_returned_as_a_record_error(
    fake: FakeZoho, client: ZohoBooksClient
) -> None:
    fake.api_script = [ok({"bill": {**bill(1), "line_items": [{"line_item_id": "1"}]}})]
    result = await client.get_bill("9000000001")
    assert isinstance(result, RecordError)
    assert result.record_id == "9000000001"
    assert "line_items" in result.reason


@pytest.mark.parametrize("list_key", ["reporting_tags", "reportingtags"])
async def test_reporting_tags_come_with_their_options_under_either_key(
    fake: FakeZoho, client: ZohoBooksClient, list_key: str
) -> None:
    fake.api_script = [
        ok({list_key: [{"tag_id": "1", "tag_name": "Cost Center"},
                       {"tag_id": "2", "tag_name": "Dept", "tag_options": []}]}),
        ok({"reporting_tag": {"tag_id": "1", "tag_name": "Cost Center", "tag_options": [
            {"tag_option_id": "11", "tag_option_name": "London"},
            {"option_id": "12", "option_name": "Paris", "is_active": False},
        ]}}),
    ]  # fmt: skip
    tags = await client.list_reporting_tags()
    assert [
        (t.tag_name, [(o.tag_option_id, o.tag_option_name, o.is_active) for o in t.tag_options]) for t in tags
    ] == [  # type: ignore[union-attr]
        ("Cost Center", [("11", "London", True), ("12", "Paris", False)]),
        ("Dept", []),
    ]
    assert [r.url.path for r in fake.api_requests] == ["/books/v3/reportingtags", "/books/v3/reportingtags/1"]


async def test_reference_lists_and_vendor_calls_use_the_documented_parameters(
    fake: FakeZoho, client: ZohoBooksClient
) -> None:
    account = {"account_id": "1", "account_name": "Travel", "account_type": "expense", "is_active": False}
    fake.api_script = [
        ok({"chartofaccounts": [account], "page_context": {"page": 1, "has_more_page": False}}),
        ok({"locations": [{"location_id": "5", "location_name": "HQ", "is_primary": True}]}),
        ok(
            {
                "contacts": [{"contact_id": "8", "contact_name": "Acme"}],
                "page_context": {"has_more_page": False},
            }
        ),
        ok(
            {"vendorpayments": [{"payment_id": "3", "vendor_id": "8", "amount": 5, "last_modified_time": ""}]}
        ),
        ok({"organizations": [{"organization_id": "20000001", "name": "Northwind"}]}),
    ]
    accounts = await client.list_accounts()
    locations = await client.list_locations()
    vendors = [v async for v in client.iter_vendors()]
    payments = [p async for p in client.iter_vendor_payments(modified_since="2026-06-09T00:00:00+0200")]
    organizations = await client.get_organizations()
    assert [len(x) for x in (accounts, locations, vendors, payments, organizations)] == [1, 1, 1, 1, 1]
    assert not any(
        isinstance(x, RecordError) for x in (*accounts, *locations, *vendors, *payments, *organizations)
    )
    sent = [(r.url.path.removeprefix("/books/v3"), dict(r.url.params)) for r in fake.api_requests]
    assert sent[0][1]["filter_by"] == "AccountType.All"
    assert sent[2][1]["contact_type"] == "vendor"
    assert sent[3][1]["last_modified_time"] == "2026-06-09T00:00:00+0200"
    assert sent[4] == ("/organizations", {})  # no organization_id when listing organisations
    assert client.request_count == 5
