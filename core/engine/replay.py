"""Replay: re-map stored records with the CURRENT mappings and masters, upsert them, extend their history.

Masters are refreshed first (so a cost center created since is picked up). Each record is re-mapped from
its stored Zoho payload (fetched again from Zoho only when the stored one cannot be read), staged (an upsert:
staging coalesces on the external key) and its outcome appended to the same record's AuditAttempt history.
Suppliers go first, then bills, then payments (a payment waits for its bill's invoice). The run starts with
the ServiceNow pre-flight and ends with a status refresh, as a sync run does.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from pydantic import ValidationError

from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.audit_writer import AuditEntry, rows_from_payload
from zbsn.core.engine.credit_replay import replayed_credit
from zbsn.core.engine.entries import failed_replay, invoice_entry, payment_entry, void_entry
from zbsn.core.engine.events import EventSink
from zbsn.core.engine.history import KEEPS_INVOICE_CODES, ReplayFilter
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.runner import RunSummary, SyncRunner
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.attachments import attach_documents, requeue_recorded
from zbsn.core.engine.stages.preflight import check_instance
from zbsn.core.engine.stages.statuses import refresh_statuses
from zbsn.core.engine.stages.webhook_payment import deleted_payment_entry
from zbsn.core.engine.transform_suppliers import supplier_rows
from zbsn.core.engine.unchanged import Known
from zbsn.core.zoho.errors import ZohoNotFound
from zbsn.core.zoho.models import RecordError, ZohoBill, ZohoVendor, ZohoVendorPayment

__all__ = ["ReplayFilter", "replay", "replay_records"]

_ORDER = (RecordKind.SUPPLIER, RecordKind.BILL, RecordKind.VENDOR_CREDIT, RecordKind.PAYMENT)


async def replay_records(run: RunSession, audit_ids: list[int] | None, where: ReplayFilter) -> None:
    """The body of a replay run (see the module docstring)."""
    await check_instance(run)
    await run.refresh_mappings()
    ids = run.history.replay_ids(audit_ids, where)
    run.log("info", f"replaying {len(ids)} record(s)")
    size = run.options.batch_size
    for kind in _ORDER:
        for start in range(0, len(ids), size):
            run.checkpoint()
            records = run.history.records(ids[start : start + size], kind)
            if records:
                await run.write([await _remap(run, record) for record in records])
    requeue_recorded(run, ids)  # attachment records replayed; bills restaged above queued their own
    await attach_documents(run)
    await refresh_statuses(run)  # what ServiceNow now holds of them (it re-checks on its own schedule)


async def _remap(run: RunSession, record: AuditRecord) -> AuditEntry:
    """A fresh audit entry for one stored record."""
    if record.kind == RecordKind.SUPPLIER:
        vendor = ZohoVendor.model_validate_json(record.source_payload or "{}")
        return AuditEntry(
            kind=record.kind,
            zoho_id=record.zoho_id,
            external_key=record.external_key,
            rows=supplier_rows(vendor, run.context),
        )
    if record.kind == RecordKind.PAYMENT and record.error_code == ErrorCode.PAYMENT_DELETED_IN_ZOHO:
        # deleted in Zoho: never staged again (its details stay in ServiceNow for the AP team to reverse)
        previous = Known(record.status, record.zoho_modified)
        return deleted_payment_entry(run, record.zoho_id, record.zoho_number, None, previous, None)
    if record.kind == RecordKind.PAYMENT:
        payment = await _stored(record, ZohoVendorPayment) or await run.zoho.get_vendor_payment(
            record.zoho_id
        )
        if isinstance(payment, RecordError):
            return failed_replay(record, payment.reason)
        staged = run.history.staged_bills(a.bill_id for a in payment.bills)
        return payment_entry(payment, run.context, run.index, staged, record.zoho_modified)
    if record.kind == RecordKind.VENDOR_CREDIT:
        return await replayed_credit(run, record)
    stored_rows = rows_from_payload(record.mapped_payload)
    cancelled_by_staging = any(r.values.get("u_invoice_state") for r in stored_rows)  # before issue 15
    if record.status == AuditStatus.FLAGGED and record.error_code in KEEPS_INVOICE_CODES:
        return _kept_flag(record)  # edited after approval, lines removed, returned to draft: nothing written
    if record.status in (AuditStatus.FLAGGED, AuditStatus.CANCELLED) or cancelled_by_staging:
        # voided or deleted in Zoho: never staged again, nor cancelled by zbsn (the AP team's action)
        return _void(run, record)
    bill = await _stored(record, ZohoBill)
    if bill is None or not bill.line_items:
        try:
            fetched = await run.zoho.get_bill(record.zoho_id)
        except ZohoNotFound:
            return failed_replay(record, "the bill no longer exists in Zoho Books", ErrorCode.NOT_FOUND)
        if isinstance(fetched, RecordError):
            return failed_replay(record, fetched.reason)
        bill = fetched
    return invoice_entry(bill, run.context, run.index, record.zoho_modified)


def _kept_flag(record: AuditRecord) -> AuditEntry:
    """A bill flagged with its invoice kept in ServiceNow, replayed: the same flag, no rows (the audit row
    keeps the rows the invoice holds); the next change of the bill in Zoho is what moves it on."""
    code = ErrorCode(record.error_code or ErrorCode.EDITED_AFTER_APPROVAL)
    message = record.error_message or code.value
    return AuditEntry(
        kind=record.kind,
        zoho_id=record.zoho_id,
        external_key=record.external_key,
        zoho_number=record.zoho_number,
        status=AuditStatus.FLAGGED,
        error_code=code.value,
        error_message=message,
        problems=[Problem(code, message)],
    )


def _void(run: RunSession, record: AuditRecord) -> AuditEntry:
    """A voided or deleted bill replayed: flagged again with what the log knows of its invoice now."""
    deleted = record.error_code == ErrorCode.DELETED_IN_ZOHO or "deleted" in (record.error_message or "")
    why = "deleted in Zoho Books" if deleted else "voided in Zoho Books"
    return void_entry(
        run.context,
        record.zoho_id,
        record.zoho_number,
        record.zoho_modified,
        record.source_payload or "{}",
        why,
        run.history.staged_invoice(record.zoho_id),
    )


_M = TypeVar("_M", ZohoBill, ZohoVendorPayment)


async def _stored(record: AuditRecord, model: type[_M]) -> _M | None:
    try:
        return model.model_validate_json(record.source_payload or "")
    except (ValidationError, ValueError):
        return None


async def replay(
    runner: SyncRunner,
    profile_id: int,
    audit_ids: list[int] | None = None,
    where: ReplayFilter | None = None,
    events: EventSink | None = None,
    cancel: asyncio.Event | None = None,
) -> RunSummary:
    """Replay the given audit records (or every record matching `where`, default: all failed) as a run."""

    async def body(run: RunSession) -> None:
        await replay_records(run, audit_ids, where or ReplayFilter())

    return await runner.session(profile_id, "replay", "replay", events, cancel, body)
