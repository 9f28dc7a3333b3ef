"""The bills stage: every bill changed since the cursor staged as an invoice (header, lines, tax lines) or
failed with what is missing; a voided or deleted bill cancels its invoice. A full sweep (mode "full", or
every `full_sweep_hours`) lists every bill and then cancels the invoices of bills gone from Zoho
(`deletions`). Up to `writes_in_flight` batch writes overlap the reading and mapping of the next batches.
"""

from __future__ import annotations

from datetime import datetime

from zbsn.core.domain import RecordKind
from zbsn.core.engine import cursors
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.bill_changes import check_changes
from zbsn.core.engine.bill_lifecycle import ListedBill, lifecycle_entry
from zbsn.core.engine.entries import BillRef
from zbsn.core.engine.incremental import Fetched, IncrementalEntity, Walk, stage_incremental
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.bill_entries import bill_entry, cancellation
from zbsn.core.engine.stages.deletions import cancel_deleted
from zbsn.core.engine.sweeps import sweep_due
from zbsn.core.engine.unchanged import Known
from zbsn.core.engine.write_pipeline import WritePipeline
from zbsn.core.zoho.models import ZohoBill, ZohoBillSummary


def _modified(summary: ZohoBillSummary) -> tuple[str | None, datetime | None]:
    return summary.last_modified_time_raw, summary.last_modified_time


def _voided(
    run: RunSession, summary: ZohoBillSummary, marker: str | None, previous: Known | None
) -> AuditEntry | None:
    """A voided bill (a cancellation) or one waiting for approval in Zoho (flagged when it went back there
    after its invoice was staged): no detail request for either."""
    listed = ListedBill(
        summary.bill_id, summary.bill_number, summary.vendor_name, summary.status, summary.model_dump_json()
    )
    waiting = lifecycle_entry(run.history, run.context, listed, marker, previous)
    if waiting is not None:
        return waiting
    if summary.status != "void":
        return None
    source = summary.model_dump_json()
    return cancellation(
        run, summary.bill_id, summary.bill_number, marker, previous, source, "voided in Zoho Books"
    )


def _entries(run: RunSession, fetched: list[Fetched[ZohoBillSummary, ZohoBill]]) -> list[AuditEntry]:
    entries = []
    for one in fetched:
        summary = one.summary
        ref = BillRef(summary.bill_id, summary.bill_number, summary.vendor_name, summary.model_dump_json())
        entries.append(bill_entry(run, ref, one.detail, one.marker, one.previous))
    return check_changes(run.history, entries)  # edited after approval, lines removed: flagged


BILLS: IncrementalEntity[ZohoBillSummary, ZohoBill] = IncrementalEntity(
    kind=RecordKind.BILL,
    stage="bills",
    cursor=cursors.BILLS,
    list_call=lambda zoho, since: zoho.iter_bills(modified_since=since),
    detail_call=lambda zoho, bill_id: zoho.get_bill(bill_id),
    record_id=lambda summary: summary.bill_id,
    modified=_modified,
    build=_entries,
    without_detail=_voided,
    per_record_failures=True,
)


async def _deletions(run: RunSession, walk: Walk) -> bool:
    if walk.unreadable_without_id:
        run.log("warning", "deletion check skipped: Zoho sent bills without an id")
        return False
    await cancel_deleted(run, walk.seen)
    return True


async def stage_bills(run: RunSession) -> None:
    """Stage the bills changed since the cursor (every bill on a full sweep, then the deletions)."""
    pipeline = WritePipeline(run.write, run.options.writes_in_flight)
    full = sweep_due(run, cursors.BILLS)
    await stage_incremental(run, BILLS, full=full, pipeline=pipeline, after_full_walk=_deletions)
