"""A short, complete engine run as the events the engine publishes (the real event types), fed straight onto
the console's bus: the Run screen's drawing of a run, without the timing of a real one (snapshots).

Real runs through the real engine against `zbsn sandbox`: test_flows.py and test_console_story.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from zbsn.core.engine.events import (
    STAGES,
    BudgetChanged,
    LogLine,
    RecordFailed,
    RecordStaged,
    RunFinished,
    RunStarted,
    StageFinished,
    StageProgressed,
    StageStarted,
    TokenStatusChanged,
)

AT = datetime(2025, 3, 31, 17, 0, tzinfo=UTC)
FIXED_NOW = AT


def run_events(run_id: int = 7) -> list[Any]:
    """A short, complete run: every stage, a budget update, one failure."""
    events: list[Any] = [
        RunStarted(at=AT, run_id=run_id, profile_id=1, mode="changed", trigger="manual"),
        TokenStatusChanged(at=AT, system="zoho", state="ok", expires_in_s=2460),
        TokenStatusChanged(at=AT, system="servicenow", state="ok", expires_in_s=1320),
    ]
    totals = {
        "pending": 0,
        "cost_centers": 3,
        "gl_accounts": 2,
        "suppliers": 5,
        "bills": 40,
        "attachments": 6,
        "payments": 12,
        "vendor_credits": 3,
        "statuses": 38,
    }
    for stage in STAGES:
        events.append(StageStarted(at=AT, run_id=run_id, stage=stage, total=totals[stage]))
        events.append(
            StageProgressed(at=AT, run_id=run_id, stage=stage, done=totals[stage], total=totals[stage])
        )
        # the statuses stage counts the invoices it followed, and those that wait on someone
        failed = {"bills": 2, "attachments": 1, "statuses": 3}.get(stage, 0)
        staged = totals[stage] if stage == "statuses" else totals[stage] - failed
        events.append(
            StageFinished(at=AT, run_id=run_id, stage=stage, staged=staged, failed=failed, skipped=0)
        )
    events += [
        RecordStaged(
            at=AT,
            run_id=run_id,
            kind="bill",
            zoho_id="b1",
            number="BILL-00041",
            staging_status="inserted",
            sn_sys_id="abc",
        ),
        RecordFailed(
            at=AT,
            run_id=run_id,
            kind="bill",
            zoho_id="b2",
            number="BILL-00042",
            error_code="UNMAPPED_COST_CENTER",
            message="Cost center 'Marketing - Lisbon' is not mapped",
        ),
        BudgetChanged(
            at=AT,
            organization_id="20099",
            used_this_window=62,
            per_window_limit=100,
            window_seconds=60,
            remaining_today=9_412,
            daily_limit=10_000,
            reset_at=None,
            queue_depth=3,
            in_flight=2,
            paused_until=None,
            pause_reason=None,
            shared=True,  # the deployment's use of the org: this console's 40 and other processes' 22
            own_this_window=40,
        ),
        LogLine(at=AT, level="warning", text="Zoho answered 429 once; waited 2s as asked"),
        LogLine(
            at=AT,
            level="info",
            text="ServiceNow: 38 invoice(s) followed: 30 pending approval, 3 exceptions found, 5 posted; "
            "5 posted by zbsn as the ERP",
        ),
        RunFinished(
            at=AT,
            run_id=run_id,
            status="completed_with_failures",
            staged=58,
            failed=2,
            skipped=0,
            unchanged=310,
            zoho_requests=64,
            servicenow_requests=9,
            message=None,
        ),
    ]
    return events
