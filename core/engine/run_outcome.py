"""What a run did (`RunSummary`), and recording it on the run's SyncRun row."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import SyncRun
from zbsn.core.db.transient import retried
from zbsn.core.domain import RunStatus

_COUNTED = ("staged", "failed", "skipped", "unchanged", "zoho_requests", "servicenow_requests")


class RunSummary(BaseModel):
    """What a run did; also stored on its SyncRun row."""

    run_id: int
    profile_id: int
    status: str
    mode: str
    staged: int = 0
    failed: int = 0
    skipped: int = 0
    unchanged: int = 0
    cancelled: int = 0
    flagged: int = 0  # voided or deleted bills whose invoices the AP team must cancel in ServiceNow
    zoho_requests: int = 0
    servicenow_requests: int = 0
    message: str | None = None
    total_amount: str = "0"
    servicenow_statuses: dict[str, int] = {}  # ServiceNowStatus -> invoices, after the run's status refresh


@retried
def record_outcome(db: sa.Engine, summary: RunSummary, now: datetime) -> None:
    """Store the summary on the run's row, unless another run already closed it (took its lock)."""
    with session_scope(db) as session:
        run = session.get(SyncRun, summary.run_id)
        if run is not None and run.status == RunStatus.RUNNING:
            for name in _COUNTED:
                setattr(run, name, getattr(summary, name))
            run.status, run.message, run.finished_at = summary.status, summary.message, now
            session.add(run)


def unrecorded_message(exc_name: str, status: str, message: str | None) -> str:
    """What a run says when the database refused its outcome."""
    outcome = f"{status}: {message}" if message else status
    return (
        f"the database is unreachable ({exc_name}): this run's outcome ({outcome}) could not be recorded;"
        " records left pending are resent by the next run, which takes over this run's lock"
    )
