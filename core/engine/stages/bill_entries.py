"""A bill's audit entry once its detail was asked for, and the flag of a voided or deleted bill (which needs
what the run's history knows of its invoice in ServiceNow)."""

from __future__ import annotations

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.details import SourceUnavailable
from zbsn.core.engine.entries import BillRef, error_entry, invoice_entry, void_entry
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.unchanged import Known
from zbsn.core.zoho.models import RecordError, ZohoBill


def cancellation(
    run: RunSession,
    bill_id: str,
    number: str | None,
    marker: str | None,
    previous: Known | None,
    source: str,
    why: str,
) -> AuditEntry:
    """A voided or deleted bill: flagged when its invoice is in ServiceNow (zbsn writes nothing there), or
    skipped when it never got there (`entries.void_entry`)."""
    invoice = run.history.staged_invoice(bill_id) if previous is not None else None
    entry = void_entry(run.context, bill_id, number, marker, source, why, invoice)
    if entry.status == AuditStatus.FLAGGED:
        run.log("warning", f"bill {number or bill_id} {entry.error_message}")
    return entry


def bill_entry(
    run: RunSession,
    ref: BillRef,
    detail: ZohoBill | RecordError | None,
    marker: str | None,
    previous: Known | None,
) -> AuditEntry:
    """The audit entry of a fetched bill (None: deleted, a RecordError: unreadable or unservable)."""
    if detail is None:
        return cancellation(
            run, ref.bill_id, ref.bill_number, marker, previous, ref.source, "deleted in Zoho Books"
        )
    if isinstance(detail, RecordError):
        unavailable = isinstance(detail, SourceUnavailable)
        code = ErrorCode.SOURCE_UNAVAILABLE if unavailable else ErrorCode.MALFORMED_RECORD
        entry = error_entry(RecordKind.BILL, detail, run.context, code)
        entry.zoho_id, entry.zoho_modified = ref.bill_id, marker
        entry.zoho_number, entry.vendor_name = ref.bill_number, ref.vendor_name
        entry.external_key = colnames.invoice_key(run.context.organization_id, ref.bill_id)
        return entry
    return invoice_entry(detail, run.context, run.index, marker)
