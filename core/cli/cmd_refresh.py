"""`zbsn refresh`: follow a profile's staged invoices in ServiceNow now (state, open exceptions, posting).

A run of its own (mode "refresh"): one batched read per 800 invoices; with the profile's
`post_outbound_as_erp` the approved invoices are marked posted, Zoho Books being the ERP. Every sync run ends
with the same refresh, so this is for "what happened since" between runs. `zbsn audit --refresh` does it
before listing.
"""

from __future__ import annotations

import typer

from zbsn.core.cli.app import app, emit_json, note
from zbsn.core.cli.cmd_shared import JsonOption, ProfileOption, cli_errors, open_cli_services, run_async
from zbsn.core.cli.cmd_sync import exit_code_for_run, servicenow_line, summary_json
from zbsn.core.engine.run_outcome import RunSummary


def refresh_profile(
    ctx: typer.Context, profile: str | None, *, quiet: bool = False
) -> tuple[str, RunSummary]:
    """Refresh one profile's statuses; returns its name and the run's summary."""
    services = open_cli_services(ctx)
    workspace = services.workspace
    with cli_errors():
        chosen = workspace.resolve_profile(profile)
        summary = run_async(services.engine.refresh_statuses(chosen.id))
        workspace.persist_token_states()
    if not quiet:
        note(f"Refresh run {summary.run_id} {summary.status}: {servicenow_line(summary)}")
        if summary.message:
            note(summary.message)
    return chosen.name, summary


@app.command("refresh")
def refresh(ctx: typer.Context, profile: ProfileOption = None, json_output: JsonOption = False) -> None:
    """Read every followed invoice's status in ServiceNow now (and post approved ones as the ERP)."""
    name, summary = refresh_profile(ctx, profile, quiet=json_output)
    code = exit_code_for_run(summary.status, summary.message)
    if json_output:
        emit_json(summary_json(summary, name) | {"exit_code": code})
    raise typer.Exit(code)
