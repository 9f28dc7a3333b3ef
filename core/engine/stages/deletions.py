"""Deletions, at the end of a full sweep: bills staged before but no longer listed by Zoho have their
invoice cancelled."""

from __future__ import annotations

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.bill_entries import cancellation
from zbsn.core.engine.unchanged import Known


async def cancel_deleted(run: RunSession, seen: set[str]) -> None:
    """Cancel the invoice of every staged bill whose id is not in `seen` (every id the full sweep listed)."""
    gone = [
        (zoho_id, number) for zoho_id, number in run.history.staged(RecordKind.BILL) if zoho_id not in seen
    ]
    was_staged = Known(AuditStatus.STAGED, None)
    entries = [
        cancellation(run, zoho_id, number, None, was_staged, "{}", "deleted in Zoho Books")
        for zoho_id, number in gone
    ]
    await run.write_in_batches(entries)
