"""The ServiceNow client zbsn's engine uses: master-data reads and Import Set staging.

Reads use the Table API (servicenow.md §3): `sysparm_limit`/`sysparm_offset` paging over a query that ends in
`ORDERBYsys_id` (stable pages), `sysparm_exclude_reference_link=true` (references come back as plain
sys_ids) and `sysparm_fields` (only what the models need). Staging is in `staging.py`, every request's
retry/auth/parsing in `requester.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.errors import ServiceNowProtocolError
from zbsn.core.servicenow.labels import StagingLabels, merged_labels
from zbsn.core.servicenow.models import (
    SNCostCenter,
    SNGLAccount,
    SNLegalEntity,
    SNSupplier,
    StagingOutcome,
    StagingRow,
)
from zbsn.core.servicenow.query import EncodedQuery, eq
from zbsn.core.servicenow.requester import Requester, RetryPolicy, Sleep
from zbsn.core.servicenow.responses import result_list
from zbsn.core.servicenow.staging import KeyBy, StageMode, Stager
from zbsn.core.tls import tls_context

ModelT = TypeVar("ModelT", bound=BaseModel)

# Master tables and, per model field, the ServiceNow column it is read from.
# [I] `erp_supplier_code`, `erp_company_code` and `local_currency` are the sandbox's column names, derived
# from documented labels (servicenow.md §7.1); a real instance may differ: override with `field_maps=`.
DEFAULT_FIELD_MAPS: dict[str, dict[str, str]] = {
    "cmn_cost_center": {
        "sys_id": "sys_id",
        "name": "name",
        "account_number": "account_number",
        "code": "code",
    },
    "sn_fin_gl_account": {"sys_id": "sys_id", "number": "number", "name": "name"},
    "sn_fin_supplier": {
        "sys_id": "sys_id",
        "name": "name",
        "supplier_code": "erp_supplier_code",
        "tax_id": "tax_id",
    },
    "sn_fin_legal_entity": {
        "sys_id": "sys_id",
        "name": "name",
        "company_code": "erp_company_code",
        "currency": "local_currency",
    },
}
SUPPLIER_TABLE = "sn_fin_supplier"


def _flatten(value: Any) -> Any:
    """A reference `{link, value}` (or display pair) as its sys_id; other values untouched."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


class ServiceNowClient:
    """Async client for one ServiceNow instance. Use `async with`, or call `aclose()`."""

    def __init__(
        self,
        instance_url: str,
        auth: ServiceNowAuth,
        http: httpx.AsyncClient | None = None,
        batch_size: int = 200,
        stage_mode: StageMode = "async_multiple",
        key_by: KeyBy = "label",
        poll_interval_s: float = 0.05,
        poll_timeout_s: float = 120,
        *,
        poll_interval_max_s: float = 2.0,
        page_size: int = 1000,
        labels: StagingLabels | None = None,
        field_maps: Mapping[str, Mapping[str, str]] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        if batch_size < 1 or page_size < 1:
            raise ValueError("batch_size and page_size must be positive")
        self.instance_url = instance_url.rstrip("/")
        self.auth = auth
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout_s, verify=tls_context())
        self.page_size = page_size
        self.field_maps = {**DEFAULT_FIELD_MAPS, **{t: dict(m) for t, m in (field_maps or {}).items()}}
        self._requester = Requester(self.instance_url, auth, self._http, retry or RetryPolicy(), sleep)
        self._stager = Stager(
            requester=self._requester,
            read_records=self.get_records,
            count_records=self.count_records,
            clock=clock or SystemClock(),
            batch_size=batch_size,
            mode=stage_mode,
            key_by=key_by,
            labels=merged_labels(labels),
            poll_interval_s=poll_interval_s,
            poll_timeout_s=poll_timeout_s,
            poll_interval_max_s=poll_interval_max_s,
        )

    @property
    def request_count(self) -> int:
        """Every HTTP request sent so far, including token requests, retries and import-set polls."""
        return self._requester.request_count

    @property
    def rate_limit_waits(self) -> list[float]:
        """The Retry-After waits taken so far (seconds, after capping)."""
        return self._requester.rate_limit_waits

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ServiceNowClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- reads -----------------------------------------------------------------------------------------
    async def get_records(
        self,
        table: str,
        query: EncodedQuery,
        fields: Sequence[str],
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records of `table` matching `query` (all pages, or at most `limit`), references flattened."""
        if limit is not None and limit < 1:
            raise ValueError("limit must be positive")
        if not any(field == "sys_id" for field, _desc in query.ordering):
            query = query.order_by("sys_id")  # a total order keeps offset pages from overlapping
        records: list[dict[str, Any]] = []
        offset = 0
        while limit is None or len(records) < limit:
            page_limit = self.page_size if limit is None else min(self.page_size, limit - len(records))
            params = {
                "sysparm_query": query.render(),
                "sysparm_fields": ",".join(fields),
                "sysparm_limit": str(page_limit),
                "sysparm_offset": str(offset),
                "sysparm_exclude_reference_link": "true",
                "sysparm_display_value": "false",
            }
            path = f"/api/now/table/{table}"
            _response, body = await self._requester.request_json("GET", path, params=params)
            page = result_list(body, f"GET {path}")
            records += [{k: _flatten(v) for k, v in r.items()} for r in page if isinstance(r, dict)]
            if len(page) < page_limit:
                break
            offset += len(page)
        return records

    async def count_records(self, table: str, query: EncodedQuery) -> int | None:
        """How many records of `table` match `query`: the Table API's `X-Total-Count` for a one-record page
        (None when the instance sends no usable count)."""
        params = {
            "sysparm_query": query.render(),
            "sysparm_fields": "sys_id",
            "sysparm_limit": "1",
            "sysparm_exclude_reference_link": "true",
        }
        path = f"/api/now/table/{table}"
        response, body = await self._requester.request_json("GET", path, params=params)
        result_list(body, f"GET {path}")
        try:
            count = int(response.headers.get("X-Total-Count", ""))
        except ValueError:
            return None
        return count if count >= 0 else None

    async def _list(
        self, table: str, model: type[ModelT], query: EncodedQuery | None = None, limit: int | None = None
    ) -> list[ModelT]:
        mapping = self.field_maps[table]
        records = await self.get_records(table, query or EncodedQuery(), list(mapping.values()), limit)
        models: list[ModelT] = []
        for record in records:
            values = {attr: record.get(column) or None for attr, column in mapping.items()}
            try:
                models.append(model.model_validate(values))
            except ValueError as exc:
                where = f"{table} record {record.get('sys_id')}"
                raise ServiceNowProtocolError(f"{where} is malformed: {exc}") from exc
        return models

    async def list_cost_centers(self) -> list[SNCostCenter]:
        """Every `cmn_cost_center` record."""
        return await self._list("cmn_cost_center", SNCostCenter)

    async def list_gl_accounts(self) -> list[SNGLAccount]:
        """Every `sn_fin_gl_account` record."""
        return await self._list("sn_fin_gl_account", SNGLAccount)

    async def list_suppliers(self) -> list[SNSupplier]:
        """Every `sn_fin_supplier` record."""
        return await self._list(SUPPLIER_TABLE, SNSupplier)

    async def list_legal_entities(self) -> list[SNLegalEntity]:
        """Every `sn_fin_legal_entity` record."""
        return await self._list("sn_fin_legal_entity", SNLegalEntity)

    async def find_suppliers(
        self, *, name: str | None = None, tax_id: str | None = None, code: str | None = None
    ) -> list[SNSupplier]:
        """Suppliers matching ALL given criteria exactly (values escaped; at least one criterion)."""
        mapping = self.field_maps[SUPPLIER_TABLE]
        criteria = {"name": name, "tax_id": tax_id, "supplier_code": code}
        conditions = [eq(mapping[attr], value) for attr, value in criteria.items() if value is not None]
        if not conditions:
            raise ValueError("find_suppliers() needs name, tax_id or code")
        return await self._list(SUPPLIER_TABLE, SNSupplier, EncodedQuery().and_(*conditions))

    # --- staging ---------------------------------------------------------------------------------------
    async def stage(self, rows: Sequence[StagingRow]) -> list[StagingOutcome]:
        """Stage `rows` through the Import Set API; one outcome per row, in the same order.

        Rows may target several staging tables: they are grouped per table, tables taken in the order they
        first appear (put headers before lines before tax lines before payments), and each table's outcomes
        are known before the next table starts.
        """
        return await self._stager.stage(rows)
