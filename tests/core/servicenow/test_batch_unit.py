"""The Batch API reader: one request for many reads, pages, unserviced items, per-read errors, fallback."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from zbsn.core.servicenow.batch import BatchReader, TableRead
from zbsn.core.servicenow.errors import ServiceNowAPIError
from zbsn.core.servicenow.query import EncodedQuery

from .fakes import FakeInstance, body_of, make_client, ok, sn_error


def _encoded(payload: Any) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def read(table: str) -> TableRead:
    """A read of `table` by name."""
    return TableRead(table, EncodedQuery().eq("active", "true"), ("sys_id",))


class Batches:
    """Answers batch requests (and plain GETs): a read of `table` gets `rows[table]` records, page by page."""

    def __init__(self, rows: dict[str, int], *, skip_first: int = 0, refused: set[str] | None = None) -> None:
        self.rows = rows
        self.skip_first = skip_first  # leave the first N items of the first batch unserviced
        self.refused = refused or set()
        self.seen: list[str] = []  # "batch a b c" or "GET a@offset"

    def page(self, url: httpx.URL) -> tuple[dict[str, Any], int]:
        table = url.path.rsplit("/", 1)[-1]
        if table in self.refused:
            return {"error": {"message": "Insufficient rights to query records"}}, 403
        offset, limit = int(url.params["sysparm_offset"]), int(url.params["sysparm_limit"])
        count = max(0, min(limit, self.rows[table] - offset))
        return {"result": [{"sys_id": f"{table}-{offset + i}"} for i in range(count)]}, 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.seen.append(
                f"GET {request.url.path.rsplit('/', 1)[-1]}@{request.url.params['sysparm_offset']}"
            )
            body, status = self.page(request.url)
            return ok(body, status)
        items = body_of(request)["rest_requests"]
        first = not any(s.startswith("batch") for s in self.seen)
        self.seen.append("batch " + " ".join(httpx.URL(i["url"]).path.rsplit("/", 1)[-1] for i in items))
        serviced = []
        for position, item in enumerate(items):
            if first and position < self.skip_first:
                continue
            assert item["method"] == "GET"
            body, status = self.page(httpx.URL(item["url"]))
            serviced.append({"id": item["id"], "status_code": status, "body": _encoded(body)})
        unserviced = [i["id"] for i in items[: self.skip_first]] if first else []
        return ok({"batch_request_id": "1", "serviced_requests": serviced, "unserviced_requests": unserviced})


async def test_many_reads_pages_and_unserviced_items() -> None:
    batches = Batches({"a": 5, "b": 2, "c": 0}, skip_first=1)
    async with make_client(FakeInstance(api=batches), page_size=3) as client:
        reader = BatchReader(client._requester, page_size=3, max_items=5)
        a, b, c = await reader.read([read("a"), read("b"), read("c")])
    assert [r["sys_id"] for r in a] == [f"a-{i}" for i in range(5)]
    assert [r["sys_id"] for r in b] == ["b-0", "b-1"]
    assert c == []
    # a was left unserviced, then read alone (a plain GET); its first page was full, so it read on
    assert batches.seen == ["batch a b c", "GET a@0", "GET a@3"]
    assert client.request_count == 1 + 3  # the token, one batch, two GETs


async def test_a_refused_read_is_returned_and_raised() -> None:
    batches = Batches({"a": 1}, refused={"secret"})
    async with make_client(FakeInstance(api=batches)) as client:
        reader = BatchReader(client._requester, max_items=5)
        ok_rows, refused = await reader.read_each([read("a"), read("secret")])
        with pytest.raises(ServiceNowAPIError) as raised:
            await reader.read([read("a"), read("secret")])
    assert ok_rows == [{"sys_id": "a-0"}]
    assert isinstance(refused, ServiceNowAPIError)
    assert refused.status_code == 403
    assert raised.value.status_code == 403


async def test_an_instance_without_the_batch_api_is_read_with_gets() -> None:
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/api/now/v1/batch":
            return sn_error(400, "Requested URI does not represent any resource")
        return ok({"result": [{"sys_id": request.url.path.rsplit("/", 1)[-1]}]})

    async with make_client(FakeInstance(api=api)) as client:
        reader = BatchReader(client._requester, max_items=5)
        first = await reader.read([read("a"), read("b")])
        second = await reader.read([read("c"), read("d")])
    assert first == [[{"sys_id": "a"}], [{"sys_id": "b"}]]
    assert second == [[{"sys_id": "c"}], [{"sys_id": "d"}]]
    assert seen == [
        "POST /api/now/v1/batch",
        "GET /api/now/table/a",
        "GET /api/now/table/b",
        "GET /api/now/table/c",  # the refusal is remembered
        "GET /api/now/table/d",
    ]
