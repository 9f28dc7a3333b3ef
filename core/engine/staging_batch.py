"""One exactly-once write of a batch: audit rows committed, rows staged, outcomes committed, events sent."""

from __future__ import annotations

from collections.abc import Sequence

from zbsn.core.domain import AuditStatus
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion, conclude
from zbsn.core.engine.columns import PREREQUISITE_TABLES
from zbsn.core.engine.events import RecordFailed, RecordSkipped, RecordStaged
from zbsn.core.engine.ports import ServiceNowTarget
from zbsn.core.engine.telemetry import Counters, Telemetry
from zbsn.core.servicenow.models import StagingRow


async def write_batch(
    entries: Sequence[AuditEntry],
    writer: AuditWriter,
    target: ServiceNowTarget,
    telemetry: Telemetry,
    counters: Counters,
    run_id: int,
) -> list[Completion]:
    """Commit every entry's audit row, stage the pending ones in one call, commit their outcomes.

    Failed and skipped entries are final at `begin`; pending ones are concluded from the staged outcomes.
    An exception from `stage()` leaves the pending rows pending (the next run resends them).
    """
    unique: dict[tuple[str, str], AuditEntry] = {}
    for entry in entries:  # the same record twice in one batch (a page repeated by Zoho): the last one wins
        unique.pop((entry.kind, entry.zoho_id), None)
        unique[(entry.kind, entry.zoho_id)] = entry
    tickets = await writer.begin_async(list(unique.values()))
    pending = [t for t in tickets if t.entry.status == AuditStatus.PENDING and t.entry.rows]
    for ticket in tickets:
        entry = ticket.entry
        if entry.status == AuditStatus.FAILED:
            counters.failed += 1
            telemetry.emit(
                RecordFailed(
                    run_id=run_id,
                    kind=entry.kind,
                    zoho_id=entry.zoho_id,
                    number=entry.zoho_number,
                    error_code=entry.error_code or "",
                    message=entry.error_message or "",
                )
            )
        elif entry.status == AuditStatus.FLAGGED:  # a void or delete for the AP team (no write)
            counters.flagged += 1
        elif entry.status == AuditStatus.SKIPPED:
            counters.skipped += 1
            telemetry.emit(
                RecordSkipped(
                    run_id=run_id, kind=entry.kind, zoho_id=entry.zoho_id, reason=entry.error_message or ""
                )
            )
    if not pending:
        return []
    rows = _ordered_rows(pending_rows=[t.entry.rows for t in pending])
    outcomes = await target.stage(rows)
    by_ref = {outcome.source_ref: outcome for outcome in outcomes}
    completions = [
        conclude(t, [by_ref[r.source_ref] for r in t.entry.rows if r.source_ref in by_ref]) for t in pending
    ]
    await writer.finish_async(completions)
    for done in completions:
        entry = done.ticket.entry
        if done.status == AuditStatus.FAILED:
            counters.failed += 1
            telemetry.emit(
                RecordFailed(
                    run_id=run_id,
                    kind=entry.kind,
                    zoho_id=entry.zoho_id,
                    number=entry.zoho_number,
                    error_code=done.error_code or "",
                    message=done.error_message or "",
                )
            )
            continue
        if done.status == AuditStatus.CANCELLED:
            counters.cancelled += 1
        counters.staged += 1
        if entry.amount is not None and done.status == AuditStatus.STAGED and entry.kind == "bill":
            counters.total_amount += entry.amount
        telemetry.emit(
            RecordStaged(
                run_id=run_id,
                kind=entry.kind,
                zoho_id=entry.zoho_id,
                number=entry.zoho_number,
                staging_status=done.staging_status or "",
                sn_sys_id=done.sn_sys_id,
            )
        )
    return completions


def _ordered_rows(pending_rows: Sequence[Sequence[StagingRow]]) -> list[StagingRow]:
    """Every row once, the prerequisite tables first (suppliers, their legal entity mappings, FX rates),
    then headers of all records before their lines (the client stages table by table).

    A row several records share (one FX rate for the bills of a day, one mapping for a supplier's bills) has
    one source reference: it is sent once and its outcome counts for each of them (the first record's row is
    sent)."""
    ordered: dict[str, list[StagingRow]] = {table: [] for table in PREREQUISITE_TABLES}
    seen: set[str] = set()
    for rows in pending_rows:
        for row in rows:
            if row.source_ref in seen:
                continue
            seen.add(row.source_ref)
            ordered.setdefault(row.table, []).append(row)
    return [row for rows in ordered.values() for row in rows]
