"""Several Table API reads in one HTTP request, through the Batch API.

`POST /api/now/v1/batch` (sn-ref §5; ServiceNowDocs api-reference/rest-apis/batch-api.md [C]) carries
a list of REST requests and answers each one (status, headers, base64 body); items run sequentially and ACLs
apply per item; items the instance did not get to are listed in `unserviced_requests` and are sent again.
Every item here is a Table API GET whose URL stays under ~8 KB (PySNC itself moves to the Batch API past
~10,000 characters [S]), so long `sys_idIN…` lists never make one long URL, and `max_items` GETs cost one
request of the instance's budget. An item whose page comes back full is read on at the next offset.

An instance that refuses the Batch API (400/403/404/405/501 on the batch itself) is read with one GET per
page from then on. Whether rate-limit rules count a batch's items one by one is not documented [I].
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from zbsn.core.servicenow.errors import (
    ServiceNowAPIError,
    ServiceNowProtocolError,
    ServiceNowRateLimited,
    ServiceNowServerError,
)
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.servicenow.requester import Requester
from zbsn.core.servicenow.responses import result_list

BATCH_PATH = "/api/now/v1/batch"
FALLBACK_STATUSES = frozenset({400, 403, 404, 405, 501})
Display = Literal["false", "all"]


@dataclass(frozen=True, slots=True)
class TableRead:
    """One Table API read: every record of `table` matching `query`, with `fields`."""

    table: str
    query: EncodedQuery
    fields: tuple[str, ...]
    display: Display = "false"

    def params(self, limit: int, offset: int) -> dict[str, str]:
        """The GET parameters of one page (ordered by sys_id unless the query orders, so pages are stable)."""
        query = self.query
        if not any(field == "sys_id" for field, _desc in query.ordering):
            query = query.order_by("sys_id")
        return {
            "sysparm_query": query.render(),
            "sysparm_fields": ",".join(self.fields),
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
            "sysparm_exclude_reference_link": "true",
            "sysparm_display_value": self.display,
            "sysparm_no_count": "true",
            "sysparm_suppress_pagination_header": "true",
        }


Result = list[dict[str, Any]] | ServiceNowAPIError


class BatchReader:
    """Answers many `TableRead`s in as few requests as the Batch API allows."""

    def __init__(self, requester: Requester, page_size: int = 1000, max_items: int = 20) -> None:
        if page_size < 1 or max_items < 1:
            raise ValueError("page_size and max_items must be positive")
        self.requester = requester
        self.page_size = page_size
        self.max_items = max_items
        self.batch_supported = True
        self._batches = 0

    async def read(self, reads: Sequence[TableRead]) -> list[list[dict[str, Any]]]:
        """Every record of every read, in the order of `reads`; the first refused read raises."""
        results: list[list[dict[str, Any]]] = []
        for result in await self.read_each(reads):
            if isinstance(result, ServiceNowAPIError):
                raise result
            results.append(result)
        return results

    async def read_each(self, reads: Sequence[TableRead]) -> list[Result]:
        """Every read's records, or the error the instance answered that read with (e.g. a 403)."""
        results: list[Result] = [[] for _ in reads]
        pending = [(index, 0) for index in range(len(reads))]
        while pending:
            wave, pending = pending[: self.max_items], pending[self.max_items :]
            answers = await self._send([(reads[i], offset) for i, offset in wave])
            for (index, offset), answer in zip(wave, answers, strict=True):
                if answer is None:  # unserviced: ask again in the next wave
                    pending.append((index, offset))
                    continue
                current = results[index]
                if isinstance(answer, ServiceNowAPIError) or isinstance(current, ServiceNowAPIError):
                    results[index] = answer if isinstance(answer, ServiceNowAPIError) else current
                    continue
                current += answer
                if len(answer) == self.page_size:
                    pending.append((index, offset + len(answer)))
        return results

    async def _send(
        self, items: list[tuple[TableRead, int]]
    ) -> list[list[dict[str, Any]] | ServiceNowAPIError | None]:
        if self.batch_supported and len(items) > 1:
            try:
                return await self._batch(items)
            except ServiceNowAPIError as exc:
                if isinstance(exc, ServiceNowRateLimited) or exc.status_code not in FALLBACK_STATUSES:
                    raise
                self.batch_supported = False
        return [await self._get(read, offset) for read, offset in items]

    async def _get(self, read: TableRead, offset: int) -> list[dict[str, Any]] | ServiceNowAPIError:
        path = f"/api/now/table/{read.table}"
        try:
            _response, body = await self.requester.request_json(
                "GET", path, params=read.params(self.page_size, offset)
            )
        except ServiceNowAPIError as exc:
            if isinstance(exc, ServiceNowRateLimited) or exc.status_code >= 500:
                raise
            return exc
        return [r for r in result_list(body, f"GET {path}") if isinstance(r, dict)]

    async def _batch(
        self, items: list[tuple[TableRead, int]]
    ) -> list[list[dict[str, Any]] | ServiceNowAPIError | None]:
        self._batches += 1
        requests = [
            {
                "id": str(number),
                "method": "GET",
                "url": f"/api/now/table/{read.table}?{urlencode(read.params(self.page_size, offset))}",
                "headers": [{"name": "Accept", "value": "application/json"}],
                "exclude_response_headers": True,
            }
            for number, (read, offset) in enumerate(items)
        ]
        _response, body = await self.requester.request_json(
            "POST", BATCH_PATH, json={"batch_request_id": str(self._batches), "rest_requests": requests}
        )
        serviced = body.get("serviced_requests")
        if not isinstance(serviced, list):
            raise ServiceNowProtocolError(f"POST {BATCH_PATH}: the answer has no 'serviced_requests' list")
        by_id = {str(item.get("id")): item for item in serviced if isinstance(item, dict)}
        answers: list[list[dict[str, Any]] | ServiceNowAPIError | None] = []
        for number, (read, _offset) in enumerate(items):
            item = by_id.get(str(number))
            answers.append(None if item is None else _item_result(read, item))
        if all(answer is None for answer in answers):
            raise ServiceNowProtocolError(f"POST {BATCH_PATH}: the instance serviced none of the requests")
        return answers


def _item_result(read: TableRead, item: dict[str, Any]) -> list[dict[str, Any]] | ServiceNowAPIError:
    """One serviced batch item as records, or the error it answered."""
    where = f"GET /api/now/table/{read.table} (in a batch)"
    try:
        status = int(item.get("status_code", 0))
        raw = base64.b64decode(str(item.get("body") or ""), validate=True)
        body = json.loads(raw) if raw else {}
    except (ValueError, binascii.Error) as exc:
        raise ServiceNowProtocolError(f"{where}: the batch item is not base64 JSON") from exc
    if status == 429:
        raise ServiceNowRateLimited(429, "Rate limit exceeded", where, retry_after_s=None)
    if status >= 500:
        raise ServiceNowServerError(status, "batch item failed", where)
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        message = str(error.get("message")) if isinstance(error, dict) and error.get("message") else "refused"
        detail = error.get("detail") if isinstance(error, dict) else None
        return ServiceNowAPIError(status, message, str(detail) if detail else None, url=where)
    if not isinstance(body, dict):
        raise ServiceNowProtocolError(f"{where}: expected a JSON object")
    return [r for r in result_list(body, where) if isinstance(r, dict)]
