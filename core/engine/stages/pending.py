"""First in every run: resend the rows an interrupted run committed as pending (coalescing makes it safe)."""

from __future__ import annotations

from zbsn.core.engine.entries import resend_entry
from zbsn.core.engine.session import RunSession


async def resend_pending(run: RunSession) -> None:
    """Resend every pending row of the profile, suppliers first, then bills, then payments."""
    run.stage_started("pending")
    before = run.snapshot()
    pending = run.history.pending()
    if pending:
        run.log("info", f"resending {len(pending)} record(s) left pending by an interrupted run")
        await run.write_in_batches([resend_entry(record) for record in pending])
    run.stage_finished_since("pending", before)
