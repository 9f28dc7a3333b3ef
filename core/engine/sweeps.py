"""When an incremental stage reads its whole list (a full sweep) instead of what changed since its cursor.

Zoho lists records "modified at or after" the cursor (zoho-ref §4.2, §4.4, §8), and a deleted record is
never listed again: it is only noticed as missing from a full listing (zoho-ref §8.7 (a)). A sweep is due
when the run asks for one (mode "full"), when the entity was never read whole, or when its last sweep is
older than the profile's `full_sweep_hours`. It costs the list pages only: records the audit log holds at
the same change marker get no detail request (`unchanged.py`).
"""

from __future__ import annotations

from datetime import timedelta

from zbsn.core.db.transient import transaction
from zbsn.core.engine import cursors
from zbsn.core.engine.session import RunSession


def sweep_due(run: RunSession, cursor: str) -> bool:
    """A full sweep of the entity behind `cursor` (cursors.BILLS, cursors.PAYMENTS) this run."""
    if run.mode == "full":
        return True
    row = transaction(run.db, lambda session: cursors.read_cursor(session, run.profile_id, cursor))
    if row is None or row.cursor_value is None:
        return True
    last = row.last_full_sweep_at
    return last is None or last < run.clock.now() - timedelta(hours=max(1, run.context.full_sweep_hours))
