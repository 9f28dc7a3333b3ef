"""The payments stage: every vendor payment changed since the cursor staged as one payment-detail row per
bill it pays, once that bill's invoice is in staging (until then it fails as INVOICE_NOT_STAGED)."""

from __future__ import annotations

from datetime import datetime

from zbsn.core.domain import RecordKind
from zbsn.core.engine import cursors
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.entries import error_entry, payment_entry
from zbsn.core.engine.incremental import Fetched, IncrementalEntity, stage_incremental
from zbsn.core.engine.session import RunSession
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
        if one.detail is None:
            continue  # deleted between the list and the detail: the next run no longer sees it
        if isinstance(one.detail, RecordError):
            entry = error_entry(RecordKind.PAYMENT, one.detail, run.context)
            entry.zoho_id, entry.zoho_modified = one.summary.payment_id, one.marker
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


async def stage_payments(run: RunSession) -> None:
    """Stage the vendor payments changed since the cursor (all of them in mode "full"), a batch at a time."""
    pipeline = WritePipeline(run.write, in_flight=0)
    await stage_incremental(run, PAYMENTS, full=run.mode == "full", pipeline=pipeline)
