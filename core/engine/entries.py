"""Audit entries for each kind of record: what `begin` writes before a ServiceNow write."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import NamedTuple

from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.audit_writer import AuditEntry, rows_from_payload
from zbsn.core.engine.history import StagedInvoice
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem, summarize
from zbsn.core.engine.transform import bill_to_invoice
from zbsn.core.engine.transform_payments import payment_to_details
from zbsn.core.zoho.models import RecordError, ZohoBill, ZohoVendorPayment, format_zoho_timestamp


class BillRef(NamedTuple):
    """What is known of a bill before its detail: for audit rows of deleted or unreadable bills."""

    bill_id: str
    bill_number: str | None
    vendor_name: str | None
    source: str


def modified_marker(raw: str | None, moment: datetime | None) -> str | None:
    """The exact modified string to dedupe on (Zoho's own string when known)."""
    if raw:
        return raw
    return format_zoho_timestamp(moment) if moment is not None else None


def error_entry(
    kind: str, error: RecordError, context: RunContext, code: ErrorCode = ErrorCode.MALFORMED_RECORD
) -> AuditEntry:
    """A failed audit entry for a record Zoho sent that could not be read (or could not serve)."""
    raw = error.raw or {}
    zoho_id = (
        error.record_id
        or "unreadable-"
        + hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    )
    key = (
        colnames.invoice_key(context.organization_id, zoho_id)
        if kind == RecordKind.BILL
        else (colnames.payment_key(context.organization_id, zoho_id))
    )
    number = raw.get("bill_number") or raw.get("payment_number")
    message = (
        f"Zoho sent an unreadable {error.entity}: {error.reason}"
        if code is ErrorCode.MALFORMED_RECORD
        else error.reason
    )
    return AuditEntry(
        kind=kind,
        zoho_id=zoho_id,
        external_key=key,
        status=AuditStatus.FAILED,
        zoho_number=str(number) if number else None,
        zoho_modified=raw.get("last_modified_time") or None,
        vendor_name=raw.get("vendor_name") or None,
        source_payload=json.dumps(raw, default=str),
        error_code=code.value,
        error_message=message,
        problems=[Problem(code, message)],
    )


def failed_replay(
    record: AuditRecord, reason: str, code: ErrorCode = ErrorCode.MALFORMED_RECORD
) -> AuditEntry:
    """A replayed record that failed before mapping (unreadable, gone from Zoho), its stored payload kept."""
    return AuditEntry(
        kind=record.kind,
        zoho_id=record.zoho_id,
        external_key=record.external_key,
        status=AuditStatus.FAILED,
        error_code=code.value,
        error_message=reason,
        source_payload=record.source_payload or json.dumps({}),
    )


def invoice_entry(bill: ZohoBill, context: RunContext, index: MappingIndex, marker: str | None) -> AuditEntry:
    """The audit entry of a bill: pending with its rows, or failed with what is missing."""
    document = bill_to_invoice(bill, context, index)
    entry = AuditEntry(
        kind=RecordKind.BILL,
        zoho_id=bill.bill_id,
        external_key=document.external_key,
        zoho_number=bill.bill_number,
        zoho_modified=marker,
        vendor_name=bill.vendor_name,
        amount=bill.total,
        currency=bill.currency_code,
        doc_date=document.date,
        source_payload=bill.model_dump_json(),
        rows=document.rows,
        extra={"exchange_rate": str(bill.exchange_rate) if bill.exchange_rate is not None else None},
    )
    if not document.ok:
        entry.status = AuditStatus.FAILED
        entry.error_code, entry.error_message = summarize(document.problems)
        entry.problems = list(document.problems)
    return entry


def payment_entry(
    payment: ZohoVendorPayment,
    context: RunContext,
    index: MappingIndex,
    staged_bills: set[str],
    marker: str | None,
) -> AuditEntry:
    """The audit entry of a vendor payment."""
    document = payment_to_details(payment, context, index, staged_bills)
    entry = AuditEntry(
        kind=RecordKind.PAYMENT,
        zoho_id=payment.payment_id,
        external_key=document.external_key,
        zoho_number=payment.payment_number,
        zoho_modified=marker,
        vendor_name=payment.vendor_name,
        amount=payment.amount,
        currency=payment.currency_code,
        doc_date=document.date,
        source_payload=payment.model_dump_json(),
        rows=document.rows,
    )
    if not document.ok:
        entry.status = AuditStatus.FAILED
        entry.error_code, entry.error_message = summarize(document.problems)
        entry.problems = list(document.problems)
    return entry


def void_entry(
    context: RunContext,
    bill_id: str,
    number: str | None,
    marker: str | None,
    source: str,
    why: str,
    invoice: StagedInvoice | None,
) -> AuditEntry:
    """The entry of a bill voided or deleted in Zoho (`why` says which). Nothing is written to ServiceNow:
    cancelling an invoice is an AP specialist's action there, so a bill whose invoice is (or may be) in
    ServiceNow is flagged for the operator with the invoice's state, one whose invoice ServiceNow already
    holds as canceled is cancelled, and one that never got there is skipped."""
    entry = AuditEntry(
        kind=RecordKind.BILL,
        zoho_id=bill_id,
        external_key=colnames.invoice_key(context.organization_id, bill_id),
        zoho_number=number,
        zoho_modified=marker,
        source_payload=source,
    )
    reached = invoice is not None and (invoice.sys_id or invoice.audit_status == AuditStatus.PENDING)
    if invoice is None or not reached:
        entry.status, entry.error_message = AuditStatus.SKIPPED, f"{why}; never staged, nothing to cancel"
        return entry
    if invoice.sn_status == ServiceNowStatus.CANCELED:
        entry.status, entry.error_message = AuditStatus.CANCELLED, f"{why}; canceled in ServiceNow"
        return entry
    code = ErrorCode.DELETED_IN_ZOHO if "deleted" in why else ErrorCode.VOIDED_IN_ZOHO
    entry.status, entry.error_code = AuditStatus.FLAGGED, code.value
    entry.error_message = flag_message(why, invoice)
    entry.problems = [Problem(code, entry.error_message)]
    return entry


def flag_message(why: str, invoice: StagedInvoice) -> str:
    """What a flagged void or delete says: the invoice, its state in ServiceNow, and who acts."""
    name = f"invoice {invoice.sn_number}" if invoice.sn_number else "its invoice"
    try:
        where = f"stays in ServiceNow ({ServiceNowStatus(invoice.sn_status or '').label})"
    except ValueError:
        where = "stays in ServiceNow" if invoice.sys_id else "may be in ServiceNow"
    return (
        f"{why}: {name} {where}; cancelling it is an AP specialist's action there (zbsn cancels no invoice)"
    )


def resend_entry(record: AuditRecord) -> AuditEntry:
    """Re-arm a pending audit row from its stored mapped payload.

    A pending cancellation left by a version of zbsn that still cancelled invoices through staging
    (`u_invoice_state`) is not sent: it becomes the flag such a void gets now."""
    rows = rows_from_payload(record.mapped_payload)
    extra = {
        k: v
        for k, v in json.loads(record.mapped_payload or "{}").items()
        if k not in ("rows", "external_key")
    }
    if any(r.values.get("u_invoice_state") for r in rows):
        why = str(extra.get("reason") or "voided or deleted in Zoho Books")
        entry = AuditEntry(
            kind=record.kind,
            zoho_id=record.zoho_id,
            external_key=record.external_key,
            zoho_number=record.zoho_number,
            status=AuditStatus.FLAGGED,
            error_code=ErrorCode.VOIDED_IN_ZOHO.value,
        )
        staged = StagedInvoice(record.status, record.sn_sys_id, record.sn_status, None)
        entry.error_message = flag_message(why, staged)
        entry.problems = [Problem(ErrorCode.VOIDED_IN_ZOHO, entry.error_message)]
        return entry
    return AuditEntry(
        kind=record.kind,
        zoho_id=record.zoho_id,
        external_key=record.external_key,
        rows=rows,
        extra=extra,
        amount=record.amount,
        zoho_number=record.zoho_number,
        status=AuditStatus.PENDING if rows else AuditStatus.FAILED,
        error_code=None if rows else ErrorCode.MALFORMED_RECORD.value,
        error_message=None if rows else "a pending record without a stored payload",
    )
