"""Last in every sync run, and a run of its own on demand: follow the staged invoices in ServiceNow.

For each followed record (see `sn_status_store`) the stage reads the invoice by its target sys_id in one
batched refresh (`ServiceNowClient.follow_invoices`: the Batch API carries the reads of 800 invoices per
request, sn-ref §5), turns each answer into a ServiceNow status (`sn_status`) and stores it with its history.
When the profile posts as the ERP (`post_outbound_as_erp`, the default: Zoho Books already holds the posted
bill), each outbound record waiting in Integration status New is marked Processed with ERP number = the bill
id and the bill's date as posting date (sn-ref §7.5), one request each, so the invoice reaches Pending
payment and the vendor payments zbsn stages match it by that ERP number (sn-ref §7.6). A posting ServiceNow
refuses is logged and left New for the next refresh; the run goes on.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

from sqlmodel import Session

from zbsn.core.db.transient import transaction
from zbsn.core.domain import ServiceNowStatus
from zbsn.core.engine import columns as col
from zbsn.core.engine.events import StatusesRefreshed
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.sn_status import StatusReading, read_status
from zbsn.core.engine.sn_status_store import Saved, Tracked, load_tracked, save_readings, save_watermark
from zbsn.core.servicenow.errors import ServiceNowAPIError, ServiceNowRateLimited

POSTINGS_IN_FLIGHT = 4  # outbound PATCHes at once: one request each, small and independent


def _posting_date(tracked: Tracked, run: RunSession) -> date:
    """The ERP posting date: the bill's date in Zoho (the org's local date), else today."""
    try:
        return date.fromisoformat(tracked.doc_date or "")
    except ValueError:
        return run.clock.now().date()


async def _post(
    run: RunSession, tracked: Tracked, reading: StatusReading, gate: asyncio.Semaphore
) -> StatusReading:
    """Mark the record's outbound invoice Processed as the ERP; the reading as it now stands."""
    assert reading.outbound_sys_id is not None
    erp_number = col.erp_invoice_number(tracked.zoho_id)
    posting_date = _posting_date(tracked, run)
    async with gate:
        try:
            await run.servicenow.mark_outbound_processed(reading.outbound_sys_id, erp_number, posting_date)
        except ServiceNowRateLimited:
            raise
        except ServiceNowAPIError as exc:
            run.log(
                "warning",
                f"bill {tracked.number or tracked.zoho_id}: ServiceNow refused posting its outbound invoice "
                f"as the ERP ({exc}); the next refresh tries again",
            )
            return reading
    return reading.posted(erp_number, posting_date)


async def refresh_statuses(run: RunSession) -> None:
    """Read every followed invoice, post the approved ones as the ERP when the profile says so, store it."""
    run.stage_started("statuses")
    began = run.clock.now()
    requests_before = run.servicenow.request_count
    tracked = transaction(run.db, lambda session: load_tracked(session.connection(), run.profile_id))
    followed = await run.servicenow.follow_invoices(t.invoice_sys_id for t in tracked) if tracked else {}
    readings = [
        (t, read_status(t.invoice_sys_id, followed.get(t.invoice_sys_id), t.last_sent)) for t in tracked
    ]
    posted = 0
    if run.context.post_outbound_as_erp:
        gate = asyncio.Semaphore(POSTINGS_IN_FLIGHT)
        waiting = [i for i, (_t, r) in enumerate(readings) if r.to_post and r.outbound_sys_id]
        results = await asyncio.gather(*(_post(run, *readings[i], gate) for i in waiting))
        for i, result in zip(waiting, results, strict=True):
            posted += result.status is ServiceNowStatus.POSTED
            readings[i] = (readings[i][0], result)
    now = run.clock.now()

    def store(session: Session) -> Saved:
        conn = session.connection()
        stored = save_readings(conn, run.profile_id, run.run_id, readings, now)
        save_watermark(conn, run.profile_id, began)
        return stored

    saved = transaction(run.db, store)  # run again whole after a transient error: the save is idempotent
    by_status = Counter(r.status.value for _t, r in readings)
    run.counters.servicenow_statuses = dict(by_status)
    fixable = sum(1 for _t, r in readings if r.replay_fixes)
    waiting_on_someone = sum(
        1
        for _t, r in readings
        if r.status in (ServiceNowStatus.EXCEPTIONS_FOUND, ServiceNowStatus.POSTING_FAILED)
    )
    run.telemetry.emit(
        StatusesRefreshed(
            run_id=run.run_id,
            followed=len(readings),
            by_status=dict(by_status),
            changed=saved.changed,
            posted=posted,
            replay_fixes=fixable,
            requests=run.servicenow.request_count - requests_before,
        )
    )
    if readings:
        shown = ", ".join(f"{n} {ServiceNowStatus(s).label.lower()}" for s, n in by_status.most_common())
        extra = f"; {posted} posted by zbsn as the ERP" if posted else ""
        extra += f"; {saved.cancelled} flagged void(s) now canceled there" if saved.cancelled else ""
        run.log("info", f"ServiceNow: {len(readings)} invoice(s) followed: {shown}{extra}")
    run.stage_finished("statuses", len(readings), waiting_on_someone, 0)
