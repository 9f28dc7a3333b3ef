"""Deletions, at the end of a full sweep: records staged before and no longer listed by Zoho.

Zoho has no deleted-records endpoint (zoho-ref §8.7): a record deleted there is simply no longer listed, and a
list read since the cursor never lists it again either way, so only a complete listing (a full sweep,
`sweeps.py`) tells a deleted record from an unchanged one. A listing that failed part-way raises before
these run (`incremental.stage_incremental`), and one that held a record without an id is no sweep (the
stages skip these then): a record on a page that did not load is never taken for deleted.
- bills: staged bills (and flagged ones whose invoice stays in ServiceNow) have their invoice flagged for
  cancellation, as a delete webhook does (`bill_entries.cancellation`);
- vendor payments: a staged payment is flagged for the AP team to reverse its payment details, one that
  never got there is skipped, as the delete webhook does (`webhook_payment.deleted_payment_entry`).
"""

from __future__ import annotations

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.bill_entries import cancellation
from zbsn.core.engine.stages.webhook_payment import deleted_payment_entry
from zbsn.core.engine.unchanged import Known

UNREADABLE_PREFIX = "unreadable-"  # the id of a record Zoho sent without one (`entries.error_entry`)


async def cancel_deleted(run: RunSession, seen: set[str]) -> None:
    """Flag the invoice of every staged bill whose id is not in `seen` (every id the full sweep listed)."""
    held = [*run.history.staged(RecordKind.BILL), *run.history.kept_invoices()]
    gone = [(zoho_id, number) for zoho_id, number in held if zoho_id not in seen]
    was_staged = Known(AuditStatus.STAGED, None)
    entries = [
        cancellation(run, zoho_id, number, None, was_staged, "{}", "deleted in Zoho Books")
        for zoho_id, number in gone
    ]
    await run.write_in_batches(entries)


async def flag_deleted_payments(run: RunSession, seen: set[str]) -> None:
    """Flag every staged vendor payment whose id is not in `seen` (every id the full sweep listed); a failed
    one (never staged) is skipped as deleted. Flagged and skipped ones are final: later sweeps pass them."""
    known = run.history.with_status(RecordKind.PAYMENT, (AuditStatus.STAGED, AuditStatus.FAILED))
    entries = [
        deleted_payment_entry(run, payment_id, number, None, Known(status, None), None)
        for payment_id, number, status in known
        if payment_id not in seen and not payment_id.startswith(UNREADABLE_PREFIX)
    ]
    if entries:
        run.log("info", f"full sweep: {len(entries)} vendor payment(s) no longer in Zoho Books")
    await run.write_in_batches(entries)
