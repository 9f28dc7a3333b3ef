"""Follow staged invoices by their target sys_id, within the ServiceNow budget (issue 15, part 1).

The import set row says what the transform did, but the Import Set Deleter removes it after 7 days; what
happens to the invoice afterwards lives on the invoice and around it (ServiceNowDocs, Source-to-Pay pages):
- `sn_shop_invoice` (state, number, ERP number and posting date, FX amounts): invoice-status.md [C];
- open exceptions in `sn_ap_apm_exception` and `sn_ap_apm_line_exception` (definition, short description,
  description): work-with-invoice-exceptions.md, exception-form-fields.md [C]; closed states are not
  documented, so "open" means any state but resolved/bypassed/closed/canceled [I];
- transform errors in `sn_spend_intg_import_error` (import-error-staging-table.md [C]); the `invoice` column
  that ties an error to its invoice is [I] (the documented ties are supplier invoice number and line number);
- the outbound posting in `sn_spend_intg_outbound_invoice` (outbound-invoice-tables-for-apo.md,
  working-with-outbound-invoice.md [C]); its `invoice` reference is [I] (the page lists none on the header).
Column names are the documented labels' snake_case [I] unless a page shows them.

Cost: invoices are read `ids_per_read` (200: URLs near 7 KB) at a time, five reads per chunk (invoice,
header exceptions, line exceptions, import errors, outbound), and the Batch API carries `max_items` reads per
request, so a refresh of 800 invoices is one request (batch.py). Without the Batch API it is five GETs per
200 invoices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from zbsn.core.servicenow.batch import BatchReader, TableRead
from zbsn.core.servicenow.invoice_models import (
    InvoiceFollowUp,
    SNImportError,
    SNInvoiceException,
    SNInvoiceStatus,
    SNOutboundInvoice,
)
from zbsn.core.servicenow.query import EncodedQuery

INVOICE_TABLE = "sn_shop_invoice"
HEADER_EXCEPTION_TABLE = "sn_ap_apm_exception"
LINE_EXCEPTION_TABLE = "sn_ap_apm_line_exception"
IMPORT_ERROR_TABLE = "sn_spend_intg_import_error"
OUTBOUND_TABLE = "sn_spend_intg_outbound_invoice"
CLOSED_EXCEPTION_STATES = ("resolved", "bypassed", "closed", "canceled")  # [I]

INVOICE_FIELDS = (
    "sys_id",
    "number",
    "state",
    "external_invoice_number",
    "erp_number",
    "erp_posting_date",
    "invoice_amount.amount",
    "invoice_amount.currency",
    "amount_paid.amount",
    "sys_updated_on",
)
EXCEPTION_FIELDS = (
    "sys_id",
    "number",
    "state",
    "invoice",
    "exception_definition",
    "short_description",
    "description",
)
LINE_EXCEPTION_FIELDS = (*EXCEPTION_FIELDS, "invoice_line", "invoice_line.erp_line_number")
IMPORT_ERROR_FIELDS = (
    "sys_id",
    "invoice",
    "error_message",
    "source_table",
    "supplier_invoice_number",
    "supplier_invoice_line_number",
    "sys_created_on",
)
OUTBOUND_FIELDS = (
    "sys_id",
    "invoice",
    "number",
    "integration_status",
    "processing_message",
    "erp_number",
    "erp_posting_date",
    "invoice_status",
    "sys_created_on",
)

T = TypeVar("T")


def _value(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if isinstance(value, dict):
        value = value.get("value")
    text = "" if value is None else str(value)
    return text or None


def _shown(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if isinstance(value, dict):
        value = value.get("display_value")
    text = "" if value is None else str(value)
    return text or None


def _amount(record: Mapping[str, Any], field: str) -> Decimal | None:
    text = _value(record, field)
    if text is None:
        return None
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def invoice_status(record: Mapping[str, Any]) -> SNInvoiceStatus:
    """An `sn_shop_invoice` record (plain values) as a status."""
    return SNInvoiceStatus(
        sys_id=_value(record, "sys_id") or "",
        number=_value(record, "number"),
        state=_value(record, "state"),
        external_invoice_number=_value(record, "external_invoice_number"),
        erp_number=_value(record, "erp_number"),
        erp_posting_date=_value(record, "erp_posting_date"),
        amount=_amount(record, "invoice_amount.amount"),
        currency=_value(record, "invoice_amount.currency"),
        amount_paid=_amount(record, "amount_paid.amount"),
        updated_on=_value(record, "sys_updated_on"),
    )


def invoice_exception(record: Mapping[str, Any], level: str) -> SNInvoiceException:
    """An exception record read with display values (the definition's name is its display value)."""
    return SNInvoiceException(
        sys_id=_value(record, "sys_id") or "",
        invoice_sys_id=_value(record, "invoice") or "",
        level="line" if level == "line" else "header",
        number=_value(record, "number"),
        state=_value(record, "state"),
        definition=_shown(record, "exception_definition"),
        short_description=_value(record, "short_description"),
        description=_value(record, "description"),
        invoice_line_sys_id=_value(record, "invoice_line"),
        line_number=_value(record, "invoice_line.erp_line_number"),
    )


def import_error(record: Mapping[str, Any]) -> SNImportError:
    """An `sn_spend_intg_import_error` record."""
    return SNImportError(
        sys_id=_value(record, "sys_id") or "",
        invoice_sys_id=_value(record, "invoice") or "",
        error_message=_value(record, "error_message"),
        source_table=_value(record, "source_table"),
        supplier_invoice_number=_value(record, "supplier_invoice_number"),
        supplier_invoice_line_number=_value(record, "supplier_invoice_line_number"),
        created_on=_value(record, "sys_created_on"),
    )


def outbound_invoice(record: Mapping[str, Any]) -> SNOutboundInvoice:
    """An `sn_spend_intg_outbound_invoice` record."""
    return SNOutboundInvoice(
        sys_id=_value(record, "sys_id") or "",
        invoice_sys_id=_value(record, "invoice") or "",
        number=_value(record, "number"),
        integration_status=_value(record, "integration_status"),
        processing_message=_value(record, "processing_message"),
        erp_number=_value(record, "erp_number"),
        erp_posting_date=_value(record, "erp_posting_date"),
        invoice_status=_value(record, "invoice_status"),
        created_on=_value(record, "sys_created_on"),
    )


def _chunks(sys_ids: Iterable[str], size: int) -> list[list[str]]:
    unique = list(dict.fromkeys(i for i in sys_ids if i))
    return [unique[start : start + size] for start in range(0, len(unique), size)]


def _grouped(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


class InvoiceFollowUpReader:
    """Batched reads of what happened to invoices after staging (see the module docstring)."""

    def __init__(self, reader: BatchReader, ids_per_read: int = 200) -> None:
        if ids_per_read < 1:
            raise ValueError("ids_per_read must be positive")
        self.reader = reader
        self.ids_per_read = ids_per_read

    # --- the reads of one chunk -----------------------------------------------------------------------------
    @staticmethod
    def _status_read(ids: Sequence[str]) -> TableRead:
        return TableRead(INVOICE_TABLE, EncodedQuery().in_("sys_id", ids), INVOICE_FIELDS)

    @staticmethod
    def _exception_reads(ids: Sequence[str]) -> list[TableRead]:
        query = EncodedQuery().in_("invoice", ids).not_in("state", CLOSED_EXCEPTION_STATES)
        return [
            TableRead(HEADER_EXCEPTION_TABLE, query, EXCEPTION_FIELDS, "all"),
            TableRead(LINE_EXCEPTION_TABLE, query, LINE_EXCEPTION_FIELDS, "all"),
        ]

    @staticmethod
    def _import_error_read(ids: Sequence[str]) -> TableRead:
        query = EncodedQuery().in_("invoice", ids).order_by("sys_created_on")
        return TableRead(IMPORT_ERROR_TABLE, query, IMPORT_ERROR_FIELDS)

    @staticmethod
    def _outbound_read(ids: Sequence[str]) -> TableRead:
        query = EncodedQuery().in_("invoice", ids).order_by("sys_created_on")
        return TableRead(OUTBOUND_TABLE, query, OUTBOUND_FIELDS)

    # --- public reads ---------------------------------------------------------------------------------------
    async def follow(self, sys_ids: Iterable[str]) -> dict[str, InvoiceFollowUp]:
        """Everything about each invoice (by target sys_id) in as few requests as the instance allows."""
        chunks = _chunks(sys_ids, self.ids_per_read)
        reads: list[TableRead] = []
        for ids in chunks:
            reads += [
                self._status_read(ids),
                *self._exception_reads(ids),
                self._import_error_read(ids),
                self._outbound_read(ids),
            ]
        results = await self.reader.read(reads)
        statuses: dict[str, SNInvoiceStatus] = {}
        exceptions: list[SNInvoiceException] = []
        errors: list[SNImportError] = []
        outbound: list[SNOutboundInvoice] = []
        for position in range(0, len(results), 5):
            invoices, headers, lines, import_errors, posted = results[position : position + 5]
            statuses.update((s.sys_id, s) for s in map(invoice_status, invoices))
            exceptions += [invoice_exception(r, "header") for r in headers]
            exceptions += [invoice_exception(r, "line") for r in lines]
            errors += map(import_error, import_errors)
            outbound += map(outbound_invoice, posted)
        by_invoice_exceptions = _grouped(exceptions, lambda e: e.invoice_sys_id)
        by_invoice_errors = _grouped(errors, lambda e: e.invoice_sys_id)
        by_invoice_outbound = _grouped(outbound, lambda o: o.invoice_sys_id)
        return {
            sys_id: InvoiceFollowUp(
                invoice_sys_id=sys_id,
                status=statuses.get(sys_id),
                exceptions=by_invoice_exceptions.get(sys_id, []),
                import_errors=by_invoice_errors.get(sys_id, []),
                outbound=sorted(by_invoice_outbound.get(sys_id, []), key=lambda o: o.created_on or ""),
            )
            for ids in chunks
            for sys_id in ids
        }

    async def statuses(self, sys_ids: Iterable[str]) -> dict[str, SNInvoiceStatus]:
        """The invoices' states by sys_id (an invoice that no longer exists is absent)."""
        reads = [self._status_read(ids) for ids in _chunks(sys_ids, self.ids_per_read)]
        results = await self.reader.read(reads)
        return {s.sys_id: s for records in results for s in map(invoice_status, records)}

    async def open_exceptions(self, sys_ids: Iterable[str]) -> dict[str, list[SNInvoiceException]]:
        """Open header and line exceptions, by invoice sys_id."""
        reads = [read for ids in _chunks(sys_ids, self.ids_per_read) for read in self._exception_reads(ids)]
        results = await self.reader.read(reads)
        found = [
            invoice_exception(record, "header" if read.table == HEADER_EXCEPTION_TABLE else "line")
            for read, records in zip(reads, results, strict=True)
            for record in records
        ]
        return _grouped(found, lambda e: e.invoice_sys_id)

    async def import_errors(self, sys_ids: Iterable[str]) -> dict[str, list[SNImportError]]:
        """Transform errors of the invoices' staging rows, oldest first, by invoice sys_id."""
        reads = [self._import_error_read(ids) for ids in _chunks(sys_ids, self.ids_per_read)]
        results = await self.reader.read(reads)
        return _grouped((import_error(r) for records in results for r in records), lambda e: e.invoice_sys_id)

    async def outbound(self, sys_ids: Iterable[str]) -> dict[str, list[SNOutboundInvoice]]:
        """The invoices' outbound records, oldest first, by invoice sys_id."""
        reads = [self._outbound_read(ids) for ids in _chunks(sys_ids, self.ids_per_read)]
        results = await self.reader.read(reads)
        found = (outbound_invoice(r) for records in results for r in records)
        return {
            key: sorted(items, key=lambda o: o.created_on or "")
            for key, items in _grouped(found, lambda o: o.invoice_sys_id).items()
        }
