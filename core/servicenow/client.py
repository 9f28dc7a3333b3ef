"""The ServiceNow client zbsn's engine uses: master-data reads, Import Set staging, and what happens after.

Reads use the Table API (sn-ref §3): `sysparm_limit`/`sysparm_offset` paging over a query that ends in
`ORDERBYsys_id` (stable pages), `sysparm_exclude_reference_link=true` (references come back as plain
sys_ids) and `sysparm_fields` (only what the models need). Staging is in `staging.py`, every request's
retry/auth/parsing in `requester.py`. After staging: `follow_invoices` (invoice_followup.py, batched through
the Batch API in batch.py), `mark_outbound_processed` (outbound.py), and before it all `preflight` /
`apply_preflight` (preflight.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.servicenow.attachments import SNAttachment, attach_file, list_attachments
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.batch import BatchReader
from zbsn.core.servicenow.errors import ServiceNowPreflightError, ServiceNowProtocolError
from zbsn.core.servicenow.invoice_followup import OUTBOUND_FIELDS, OUTBOUND_TABLE, InvoiceFollowUpReader
from zbsn.core.servicenow.invoice_followup import outbound_invoice as _outbound_invoice
from zbsn.core.servicenow.invoice_models import (
    IntegrationStatus,
    InvoiceFollowUp,
    SNImportError,
    SNInvoiceException,
    SNInvoiceStatus,
    SNOutboundInvoice,
)
from zbsn.core.servicenow.labels import StagingLabels, merged_labels
from zbsn.core.servicenow.models import (
    SNCostCenter,
    SNGLAccount,
    SNLegalEntity,
    SNSupplier,
    StagingOutcome,
    StagingRow,
)
from zbsn.core.servicenow.outbound import update_outbound_invoice
from zbsn.core.servicenow.preflight import DEFAULT_TABLES, run_preflight
from zbsn.core.servicenow.preflight_report import PreflightReport
from zbsn.core.servicenow.query import EncodedQuery, eq
from zbsn.core.servicenow.requester import Requester, RetryPolicy, Sleep
from zbsn.core.servicenow.responses import result_list
from zbsn.core.servicenow.staging import KeyBy, StageMode, Stager
from zbsn.core.tls import tls_context

ModelT = TypeVar("ModelT", bound=BaseModel)

# Master tables and, per model field, the ServiceNow column it is read from.
# [I] `erp_supplier_code`, `erp_company_code` and `local_currency` are the sandbox's column names, derived
# from documented labels (sn-ref §7.1); a real instance may differ: override with `field_maps=`.
DEFAULT_FIELD_MAPS: dict[str, dict[str, str]] = {
    "cmn_cost_center": {
        "sys_id": "sys_id",
        "name": "name",
        "account_number": "account_number",
        "code": "code",
        "legal_entity": "legal_entity",
        "erp_source": "erp_source",
    },
    "sn_fin_gl_account": {
        "sys_id": "sys_id",
        "number": "number",
        "name": "name",
        "legal_entity": "legal_entity",
        "erp_source": "erp_source",
    },
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
        "erp_source": "erp_source",
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
        ids_per_read: int = 200,
        reads_per_batch: int = 20,
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
        self.key_by: KeyBy = key_by
        self.labels = merged_labels(labels)
        self._batch = BatchReader(self._requester, page_size, reads_per_batch)
        self._followup = InvoiceFollowUpReader(self._batch, ids_per_read)
        self._stager = Stager(
            requester=self._requester,
            read_records=self.get_records,
            read_display_records=self.get_display_records,
            count_records=self.count_records,
            clock=clock or SystemClock(),
            batch_size=batch_size,
            mode=stage_mode,
            key_by=key_by,
            labels=self.labels,
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
        records = await self._read_pages(table, query, fields, limit, "false")
        return [{k: _flatten(v) for k, v in r.items()} for r in records]

    async def get_display_records(
        self,
        table: str,
        query: EncodedQuery,
        fields: Sequence[str],
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Like `get_records`, read with `sysparm_display_value=all`: every field is
        `{"display_value", "value"}` (what a reference or a choice shows a person)."""
        return await self._read_pages(table, query, fields, limit, "all")

    async def _read_pages(
        self, table: str, query: EncodedQuery, fields: Sequence[str], limit: int | None, display: str
    ) -> list[dict[str, Any]]:
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
                "sysparm_display_value": display,
            }
            path = f"/api/now/table/{table}"
            _response, body = await self._requester.request_json("GET", path, params=params)
            page = result_list(body, f"GET {path}")
            records += [r for r in page if isinstance(r, dict)]
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

    # --- after staging (issue 15) -----------------------------------------------------------------------
    async def follow_invoices(self, invoice_sys_ids: Iterable[str]) -> dict[str, InvoiceFollowUp]:
        """State, open exceptions, import errors and outbound posting of each invoice (by target sys_id):
        one request per 800 invoices through the Batch API (five GETs per 200 without it)."""
        return await self._followup.follow(invoice_sys_ids)

    async def invoice_statuses(self, invoice_sys_ids: Iterable[str]) -> dict[str, SNInvoiceStatus]:
        """The invoices' states by sys_id (an invoice that no longer exists is absent)."""
        return await self._followup.statuses(invoice_sys_ids)

    async def open_exceptions(self, invoice_sys_ids: Iterable[str]) -> dict[str, list[SNInvoiceException]]:
        """Open header and line exceptions, by invoice sys_id."""
        return await self._followup.open_exceptions(invoice_sys_ids)

    async def import_errors(self, invoice_sys_ids: Iterable[str]) -> dict[str, list[SNImportError]]:
        """Transform errors of the invoices' staging rows (oldest first), by invoice sys_id."""
        return await self._followup.import_errors(invoice_sys_ids)

    async def outbound_invoices(self, invoice_sys_ids: Iterable[str]) -> dict[str, list[SNOutboundInvoice]]:
        """The invoices' outbound (post-to-ERP) records, oldest first, by invoice sys_id."""
        return await self._followup.outbound(invoice_sys_ids)

    async def outbound_invoices_to_post(
        self, erp_source: str, limit: int | None = None
    ) -> list[SNOutboundInvoice]:
        """Outbound records in Integration status New for `erp_source` (what an ERP integrator polls)."""
        query = EncodedQuery().eq("integration_status", IntegrationStatus.NEW).eq("erp_source", erp_source)
        records = await self.get_records(OUTBOUND_TABLE, query, OUTBOUND_FIELDS, limit)
        return [_outbound_invoice(r) for r in records]

    async def mark_outbound_processed(
        self, outbound_sys_id: str, erp_number: str, posting_date: date
    ) -> SNOutboundInvoice:
        """Post an outbound invoice as the ERP: Processed, with the ERP number (the Zoho bill id) and posting
        date; ServiceNow then moves the invoice to Pending payment. One request."""
        return await update_outbound_invoice(
            self._requester,
            outbound_sys_id,
            integration_status=IntegrationStatus.PROCESSED,
            erp_number=erp_number,
            erp_posting_date=posting_date,
        )

    async def update_outbound_invoice(
        self,
        outbound_sys_id: str,
        *,
        integration_status: str,
        erp_number: str | None = None,
        erp_posting_date: date | None = None,
        processing_message: str | None = None,
    ) -> SNOutboundInvoice:
        """Any outbound status change (In progress; error with a processing message; Processed)."""
        return await update_outbound_invoice(
            self._requester,
            outbound_sys_id,
            integration_status=integration_status,
            erp_number=erp_number,
            erp_posting_date=erp_posting_date,
            processing_message=processing_message,
        )

    # --- pre-flight ------------------------------------------------------------------------------------
    async def preflight(
        self,
        tables: Sequence[str] = DEFAULT_TABLES,
        written: Mapping[str, Iterable[str]] | None = None,
    ) -> PreflightReport:
        """Read the instance's dictionary, transform maps, insertMultiple settings and the application user's
        roles for `tables` (one Batch API request) and report what is missing; changes nothing."""
        return await run_preflight(
            self._batch,
            instance_url=self.instance_url,
            labels=self.labels,
            key_by=self.key_by,
            tables=tables,
            written=written,
        )

    def apply_preflight(self, report: PreflightReport) -> None:
        """Stage from now on as the instance expects: only the columns it has, keyed by its labels or column
        names as its `sys_rest_insert_multiple` says. Raises ServiceNowPreflightError when it reports
        problems (nothing should be staged then)."""
        if not report.ok:
            raise ServiceNowPreflightError(report)
        for table, labels in report.labels().items():
            self.labels.setdefault(table, {}).update(labels)
        self._stager.columns = report.columns()
        self._stager.table_key_by = report.key_by_table()

    # --- attachments -----------------------------------------------------------------------------------
    async def attach_file(
        self, table: str, record_sys_id: str, file_name: str, content: bytes, content_type: str
    ) -> SNAttachment:
        """Attach a file to one record (Attachment API, attachments.py)."""
        return await attach_file(self._requester, table, record_sys_id, file_name, content, content_type)

    async def list_attachments(self, table: str, record_sys_ids: Iterable[str]) -> list[SNAttachment]:
        """The attachments the given records of `table` carry."""
        return await list_attachments(self._requester, table, record_sys_ids)

    # --- staging ---------------------------------------------------------------------------------------
    async def stage(self, rows: Sequence[StagingRow]) -> list[StagingOutcome]:
        """Stage `rows` through the Import Set API; one outcome per row, in the same order.

        Rows may target several staging tables: they are grouped per table, tables taken in the order they
        first appear (put headers before lines before tax lines before payments), and each table's outcomes
        are known before the next table starts.
        """
        return await self._stager.stage(rows)
