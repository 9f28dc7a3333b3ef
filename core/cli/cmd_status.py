"""`zbsn status`: every profile's last run, failures, token states and ServiceNow status counts, for an
operator or a monitor."""

from __future__ import annotations

from typing import Any

import typer

from zbsn.core.budget_store import OrgUse, window_use
from zbsn.core.cli.app import app, emit_json, state
from zbsn.core.cli.cmd_shared import EXIT_FAILURES, EXIT_OK, JsonOption, open_workspace
from zbsn.core.domain import SERVICENOW_STATUS_LABELS
from zbsn.core.profile_status import ProfileStatus, profile_statuses


def budget_json(use: OrgUse | None, limit: int) -> dict[str, Any] | None:
    """The org's shared Zoho budget now (all processes of the deployment); None before its first request."""
    if use is None:
        return None
    return {
        "used": use.used,
        "limit": limit,
        "window_seconds": use.window_s,
        "in_flight": use.in_flight,
        "paused_for_seconds": round(use.paused_for, 1),
        "pause_reason": use.pause_reason,
        "today": use.day_count,
        "remaining_today": use.remaining_today,
        "daily_limit": use.daily_limit,
    }


def status_json(status: ProfileStatus, limit: int = 100) -> dict[str, Any]:
    """One profile as JSON (no secret: names, ids, states and counts); `limit` is Zoho's per-window limit."""
    run = status.last_run
    return {
        "profile_id": status.profile.id,
        "profile": status.profile.name,
        "organization_id": status.profile.organization_id,
        "organization": status.profile.organization_name,
        "instance_url": status.profile.instance_url,
        "tokens": status.tokens,
        "records": status.records,
        "failed_records": status.failed_records,
        "servicenow_statuses": dict(status.servicenow_counts),
        "servicenow_waiting": status.servicenow_waiting,
        "needs_attention": status.needs_attention,
        "state": status.state,
        "queued_jobs": status.queued,
        "zoho_budget": budget_json(status.budget, limit),
        "last_run": None
        if run is None
        else {
            "run_id": run.run_id,
            "status": run.status,
            "trigger": run.trigger,
            "mode": run.mode,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "staged": run.staged,
            "failed": run.failed,
            "message": run.message,
        },
    }


def servicenow_words(status: ProfileStatus) -> str:
    """`; ServiceNow 3 exceptions found, 40 paid` for the text line; "" while none is followed."""
    if not status.servicenow:
        return ""
    labels = {str(key): label.lower() for key, label in SERVICENOW_STATUS_LABELS.items()}
    counts = ", ".join(f"{n:,} {labels.get(name, name)}" for name, n in status.servicenow_counts)
    return f"; ServiceNow {counts}"


@app.command("status")
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Each profile's state, last run, failed records, ServiceNow statuses, tokens, Zoho budget; exit 1 if one
    needs attention."""
    statuses = profile_statuses(open_workspace(ctx))
    limit = state(ctx).settings().zoho.per_minute_limit
    if json_output:
        emit_json([status_json(s, limit) for s in statuses])
    else:
        for s in statuses:
            run = s.last_run
            last = (
                "never run"
                if run is None
                else f"run {run.run_id} {run.status} at {run.started_at:%Y-%m-%d %H:%M} UTC "
                f"({run.staged} staged, {run.failed} failed)"
            )
            tokens = ", ".join(f"{system} {state}" for system, state in s.tokens.items())
            flag = "!" if s.needs_attention else " "
            budget = f"; Zoho {window_use(s.budget, limit)}" if s.budget is not None else ""
            queued = f" ({s.queued} queued)" if s.queued else ""
            typer.echo(
                f"{flag} {s.profile.id}: {s.profile.name} [{s.profile.organization_id}] {s.state}{queued}; "
                f"{last}; {s.failed_records} failed records{servicenow_words(s)}; {tokens}{budget}"
            )
    raise typer.Exit(EXIT_FAILURES if any(s.needs_attention for s in statuses) else EXIT_OK)
