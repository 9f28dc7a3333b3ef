"""Replay: re-map stored records with the CURRENT mappings and masters, upsert them, extend their history.

Masters are refreshed first (so a cost center created since is picked up). Each record is re-mapped from
its stored Zoho payload (fetched again from Zoho only when the stored one cannot be read), staged (an upsert:
staging coalesces on the external key) and its outcome appended to the same record's AuditAttempt history.
Suppliers go first, then bills, then payments (a payment waits for its bill's invoice).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from pydantic import ValidationError
from sqlmodel import col, or_, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.alignment import refresh_mappings
from zbsn.core.engine.audit_writer import AuditEntry, rows_from_payload
from zbsn.core.engine.entries import invoice_entry, payment_entry
from zbsn.core.engine.events import EventSink
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.runner import RunSession, RunSummary, SyncRunner
from zbsn.core.engine.transform import supplier_rows
from zbsn.core.zoho.errors import ZohoNotFound
from zbsn.core.zoho.models import RecordError, ZohoBill, ZohoVendor, ZohoVendorPayment

_ORDER = (RecordKind.SUPPLIER, RecordKind.BILL, RecordKind.PAYMENT)


@dataclass(frozen=True, slots=True)
class ReplayFilter:
    """Which audit records to replay when no ids are given (default: every failed record)."""

    status: str | None = AuditStatus.FAILED
    kind: str | None = None
    run_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None


def select_ids(run: RunSession, audit_ids: list[int] | None, where: ReplayFilter) -> list[int]:
    """The audit ids to replay: the given ones (of this profile), or those matching the filter."""
    query = select(AuditRecord.id).where(AuditRecord.profile_id == run.profile_id)
    if audit_ids is not None:
        query = query.where(col(AuditRecord.id).in_(audit_ids))
    else:
        if where.status:
            query = query.where(AuditRecord.status == where.status)
        if where.kind:
            query = query.where(AuditRecord.kind == where.kind)
        if where.run_id is not None:
            query = query.where(AuditRecord.run_id == where.run_id)
        if where.date_from:
            query = query.where(col(AuditRecord.doc_date) >= where.date_from.isoformat())
        if where.date_to:
            query = query.where(col(AuditRecord.doc_date) <= where.date_to.isoformat())
        if where.text:
            pattern = f"%{where.text}%"
            query = query.where(
                or_(
                    col(AuditRecord.zoho_number).ilike(pattern),
                    col(AuditRecord.vendor_name).ilike(pattern),
                    col(AuditRecord.error_message).ilike(pattern),
                    col(AuditRecord.zoho_id) == where.text,
                )
            )
    with session_scope(run.db) as session:
        return [i for i in session.exec(query.order_by(col(AuditRecord.id))) if i is not None]


async def replay_records(run: RunSession, audit_ids: list[int] | None, where: ReplayFilter) -> None:
    """The body of a replay run (see the module docstring)."""
    _masters, run.index = await refresh_mappings(run.db, run.context, run.zoho, run.servicenow, run.clock)
    ids = select_ids(run, audit_ids, where)
    run.telemetry.log("info", f"replaying {len(ids)} record(s)")
    for kind in _ORDER:
        for start in range(0, len(ids), run.runner.batch_size):
            run.checkpoint()
            with session_scope(run.db) as session:
                query = select(AuditRecord).where(
                    col(AuditRecord.id).in_(ids[start : start + run.runner.batch_size]),
                    AuditRecord.kind == kind,
                )
                records = list(session.exec(query))
            if records:
                await run.write([await _remap(run, record) for record in records])


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
    if record.kind == RecordKind.PAYMENT:
        payment = await _stored(record, ZohoVendorPayment) or await run.zoho.get_vendor_payment(
            record.zoho_id
        )
        if isinstance(payment, RecordError):
            return _unreadable(record, payment.reason)
        staged = run.staged_bills({a.bill_id for a in payment.bills})
        return payment_entry(payment, run.context, run.index, staged, record.zoho_modified)
    stored_rows = rows_from_payload(record.mapped_payload)
    if any(r.values.get("u_invoice_state") == colnames.CANCELED_STATE for r in stored_rows):
        return AuditEntry(
            kind=record.kind,
            zoho_id=record.zoho_id,
            external_key=record.external_key,
            rows=stored_rows,
            success_status=AuditStatus.CANCELLED,
        )
    bill = await _stored(record, ZohoBill)
    if bill is None or not bill.line_items:
        try:
            fetched = await run.zoho.get_bill(record.zoho_id)
        except ZohoNotFound:
            return _unreadable(record, "the bill no longer exists in Zoho Books", ErrorCode.NOT_FOUND)
        if isinstance(fetched, RecordError):
            return _unreadable(record, fetched.reason)
        bill = fetched
    return invoice_entry(bill, run.context, run.index, record.zoho_modified)


_M = TypeVar("_M", ZohoBill, ZohoVendorPayment)


async def _stored(record: AuditRecord, model: type[_M]) -> _M | None:
    try:
        return model.model_validate_json(record.source_payload or "")
    except (ValidationError, ValueError):
        return None


def _unreadable(record: AuditRecord, reason: str, code: ErrorCode = ErrorCode.MALFORMED_RECORD) -> AuditEntry:
    return AuditEntry(
        kind=record.kind,
        zoho_id=record.zoho_id,
        external_key=record.external_key,
        status=AuditStatus.FAILED,
        error_code=code.value,
        error_message=reason,
        source_payload=record.source_payload or json.dumps({}),
    )


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
