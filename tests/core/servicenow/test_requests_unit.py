"""Protocol errors, ServiceNow error envelopes and the retry policy, over MockTransport."""

from __future__ import annotations

import httpx
import pytest

from zbsn.core.servicenow.errors import (
    ServiceNowAPIError,
    ServiceNowProtocolError,
    ServiceNowRateLimited,
    ServiceNowServerError,
)
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.servicenow.responses import parse_retry_after

from .fakes import FakeInstance, make_client, ok, sn_error

HIBERNATING = (
    "<html><head><title>Instance Hibernating</title></head><body>Your instance is asleep</body></html>"
)


def scripted(*answers: httpx.Response | Exception) -> FakeInstance:
    """A fake whose API answers (or raises) the given items in turn, then answers an empty result."""
    queue = list(answers)

    def api(request: httpx.Request) -> httpx.Response:
        if not queue:
            return ok({"result": []})
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return FakeInstance(api=api)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(200, text=HIBERNATING, headers={"content-type": "text/html"}), "hibernating"),
        (httpx.Response(200, text=HIBERNATING), "hibernating"),  # no content type at all
        (httpx.Response(200, text="Transaction cancelled: maximum execution time exceeded"), "not JSON"),
        (ok(["a", "list"]), "JSON object"),
        (ok({"records": []}), "no 'result'"),
    ],
)
async def test_answers_that_are_not_the_promised_json_are_protocol_errors(
    answer: httpx.Response, expected: str
) -> None:
    fake = scripted(answer)
    async with make_client(fake) as client:
        with pytest.raises(ServiceNowProtocolError, match=expected):
            await client.list_cost_centers()
    assert len(fake.api_requests()) == 1  # not retried


async def test_a_4xx_carries_servicenow_message_and_detail_and_is_not_retried() -> None:
    fake = scripted(sn_error(400, "Invalid table sn_nope", "Table sn_nope does not exist"))
    async with make_client(fake) as client:
        with pytest.raises(ServiceNowAPIError) as caught:
            await client.get_records("sn_nope", EncodedQuery(), ["sys_id"])
    assert caught.value.status_code == 400
    assert caught.value.message == "Invalid table sn_nope"
    assert caught.value.detail == "Table sn_nope does not exist"
    assert "Table sn_nope does not exist" in str(caught.value)
    assert len(fake.api_requests()) == 1


async def test_429_waits_the_retry_after_it_is_given() -> None:
    limited = sn_error(
        429,
        "Rate limit exceeded",
        "Rate limit of 100 requests per hour for Table API exceeded",
        **{"Retry-After": "7"},
    )
    fake = scripted(limited, limited)
    sleeps: list[float] = []
    async with make_client(fake, sleeps=sleeps) as client:
        assert await client.list_suppliers() == []
    assert sleeps == [7.0, 7.0]
    assert client.rate_limit_waits == [7.0, 7.0]
    assert len(fake.api_requests()) == 3


async def test_retry_after_is_capped_and_the_number_of_waits_bounded() -> None:
    limited = sn_error(429, "Rate limit exceeded", None, **{"Retry-After": "3600"})
    fake = scripted(*[limited] * 10)
    sleeps: list[float] = []
    policy = RetryPolicy(wait_initial_s=0, wait_jitter_s=0, rate_limit_retries=2, retry_after_cap_s=30)
    async with make_client(fake, sleeps=sleeps, retry=policy) as client:
        with pytest.raises(ServiceNowRateLimited) as caught:
            await client.list_suppliers()
    assert sleeps == [30.0, 30.0]
    assert caught.value.retry_after_s == 3600
    assert caught.value.message == "Rate limit exceeded"


async def test_5xx_and_dropped_connections_are_retried_with_backoff() -> None:
    request = httpx.Request("GET", "https://x")
    fake = scripted(
        sn_error(503, "Service Unavailable"),
        httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request),
        httpx.ReadTimeout("timed out", request=request),
        ok({"result": [{"sys_id": "s1", "name": "Acme", "erp_supplier_code": "V-1"}]}),
    )
    async with make_client(fake) as client:
        suppliers = await client.list_suppliers()
    assert [(s.name, s.supplier_code) for s in suppliers] == [("Acme", "V-1")]
    assert len(fake.api_requests()) == 4
    assert client.request_count == 5  # with the token request


async def test_5xx_retries_are_bounded() -> None:
    fake = scripted(*[sn_error(502, "Bad Gateway")] * 10)
    async with make_client(fake, retry=RetryPolicy(attempts=3, wait_initial_s=0, wait_jitter_s=0)) as client:
        with pytest.raises(ServiceNowServerError, match="502"):
            await client.list_suppliers()
    assert len(fake.api_requests()) == 3


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("12", 12.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


async def test_paging_uses_limit_offset_and_a_stable_order() -> None:
    rows = [
        {"sys_id": f"{i:02d}", "name": f"CC{i}", "account_number": {"link": "l", "value": f"A{i}"}}
        for i in range(5)
    ]

    def api(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["sysparm_offset"])
        limit = int(request.url.params["sysparm_limit"])
        return ok({"result": rows[offset : offset + limit]})

    fake = FakeInstance(api=api)
    async with make_client(fake, page_size=2) as client:
        centers = await client.list_cost_centers()
    assert [c.account_number for c in centers] == ["A0", "A1", "A2", "A3", "A4"]  # references flattened
    params = [r.url.params for r in fake.api_requests()]
    assert [p["sysparm_offset"] for p in params] == ["0", "2", "4"]
    assert {p["sysparm_query"] for p in params} == {"ORDERBYsys_id"}
    assert {p["sysparm_exclude_reference_link"] for p in params} == {"true"}
    fields = "sys_id,name,account_number,code,legal_entity,erp_source"  # the scope: master_scope.py
    assert {p["sysparm_fields"] for p in params} == {fields}


async def test_find_suppliers_escapes_and_ands_its_criteria() -> None:
    fake = FakeInstance()
    async with make_client(fake) as client:
        await client.find_suppliers(name="Acme^ORactive=false", code="V-1")
        with pytest.raises(ValueError):
            await client.find_suppliers()
    query = fake.api_requests()[0].url.params["sysparm_query"]
    assert query == "name=Acme^^ORactive=false^erp_supplier_code=V-1^ORDERBYsys_id"
