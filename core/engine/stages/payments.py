"""The payments stage: every vendor payment changed since the cursor staged as one payment-detail row per
bill it pays, once that bill's invoice is in staging (until then it fails as INVOICE_NOT_STAGED).

Zoho lists payments modified since the cursor (`last_modified_time`, zoho-ref §4.4, §8.2), so a deleted
payment never shows up in a changed-only read: only a full sweep (mode "full", or every `full_sweep_hours`,
`sweeps.py`) notices it, as missing from the complete listing (`deletions.flag_deleted_payments`). The sweep
costs the list pages alone: unchanged payments get no detail request. A payment deleted between its list
row and its detail request is handled by the same rule at once.
"""

from __future__ import annotations

from datetime import datetime

from zbsn.core.domain import RecordKind
from zbsn.core.engine import cursors
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.entries import error_entry, payment_entry
from zbsn.core.engine.incremental import Fetched, IncrementalEntity, Walk, stage_incremental
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.deletions import flag_deleted_payments
from zbsn.core.engine.stages.webhook_payment import deleted_payment_entry
from zbsn.core.engine.sweeps import sweep_due
from zbsn.core.engine.write_pipeline import WritePipeline
from zbsn.core.zoho.models import RecordError, ZohoVendorPayment


def _modified(payment: ZohoVendorPayment) -> tuple[str | None, datetime | None]:
    return payment.last_modified_time_raw, payment.last_modified_time or payment.created_time


def _entries(
    run: RunSession, fetched: list[Fetched[ZohoVendorPayment, ZohoVendorPayment]]
) -> list[AuditEntry]:
    paid = {a.bill_id for f in fetched if isinstance(f.detail, ZohoVendorPayment) for a in f.detail.bills}
    staged = run.history.staged_bills(paid)
    entries = []
    for one in fetched:
        summary = one.summary
        if one.detail is None:  # deleted between the list and the detail: the delete rule now
            entries.append(
                deleted_payment_entry(
                    run, summary.payment_id, summary.payment_number, one.marker, one.previous, None
                )
            )
            continue
        if isinstance(one.detail, RecordError):
            entry = error_entry(RecordKind.PAYMENT, one.detail, run.context)
            entry.zoho_id, entry.zoho_modified = summary.payment_id, one.marker
            entries.append(entry)
            continue
        entries.append(payment_entry(one.detail, run.context, run.index, staged, one.marker))
    return entries


PAYMENTS: IncrementalEntity[ZohoVendorPayment, ZohoVendorPayment] = IncrementalEntity(
    kind=RecordKind.PAYMENT,
    stage="payments",
    cursor=cursors.PAYMENTS,
    list_call=lambda zoho, since: zoho.iter_vendor_payments(modified_since=since),
    detail_call=lambda zoho, payment_id: zoho.get_vendor_payment(payment_id),
    record_id=lambda payment: payment.payment_id,
    modified=_modified,
    build=_entries,
)


async def _deletions(run: RunSession, walk: Walk) -> bool:
    """After a full listing: the staged payments it no longer holds (no sweep when a record had no id)."""
    if walk.unreadable_without_id:
        run.log("warning", "deleted-payment check skipped: Zoho sent vendor payments without an id")
        return False
    await flag_deleted_payments(run, walk.seen)
    return True


async def stage_payments(run: RunSession) -> None:
    """Stage the vendor payments changed since the cursor (every one on a full sweep, then the deleted)."""
    pipeline = WritePipeline(run.write, in_flight=0)
    full = sweep_due(run, cursors.PAYMENTS)
    await stage_incremental(run, PAYMENTS, full=full, pipeline=pipeline, after_full_walk=_deletions)
