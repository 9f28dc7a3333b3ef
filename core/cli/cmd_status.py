"""`zbsn status`: every profile's last run, failures and token states, for an operator or a monitor."""

from __future__ import annotations

from typing import Any

import typer

from zbsn.core.cli.app import app, emit_json
from zbsn.core.cli.cmd_shared import EXIT_FAILURES, EXIT_OK, JsonOption, open_workspace
from zbsn.core.profile_status import ProfileStatus, profile_statuses


def status_json(status: ProfileStatus) -> dict[str, Any]:
    """One profile as JSON (no secret: names, ids, states and counts)."""
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
        "needs_attention": status.needs_attention,
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


@app.command("status")
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Every profile's last run, failed records and token states; exit 1 when one needs attention."""
    statuses = profile_statuses(open_workspace(ctx))
    if json_output:
        emit_json([status_json(s) for s in statuses])
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
            typer.echo(
                f"{flag} {s.profile.id}: {s.profile.name} [{s.profile.organization_id}] {last}; "
                f"{s.failed_records} failed records; {tokens}"
            )
    raise typer.Exit(EXIT_FAILURES if any(s.needs_attention for s in statuses) else EXIT_OK)
