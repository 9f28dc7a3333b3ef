"""`zbsn replay`: re-map and re-stage records with the current mappings (ids, or all failed of a filter)."""

from __future__ import annotations

from typing import Annotated

import typer

from zbsn.core.cli.app import app, emit_json, err_console, note
from zbsn.core.cli.cmd_shared import (
    EXIT_USAGE,
    JsonOption,
    ProfileOption,
    cli_errors,
    die,
    open_cli_services,
    parse_day,
    run_async,
)
from zbsn.core.cli.cmd_sync import StageProgress, exit_code_for_run, run_cancellable, summary_json
from zbsn.core.cli.enqueue import enqueue_replay
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.history import History
from zbsn.core.engine.replay import ReplayFilter


@app.command("replay")
def replay(
    ctx: typer.Context,
    audit_ids: Annotated[list[int] | None, typer.Argument(help="Audit record ids to replay.")] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed record of the filter.")
    ] = False,
    servicenow_fixable: Annotated[
        bool,
        typer.Option(
            "--servicenow-fixable",
            help="Every record whose ServiceNow status says re-staging fixes it (exception, import error).",
        ),
    ] = False,
    kind: Annotated[str | None, typer.Option("--kind", help="bill, payment, supplier, …")] = None,
    run_id: Annotated[int | None, typer.Option("--run", help="Failed records of this run.")] = None,
    period_from: Annotated[str | None, typer.Option("--from", help="Dated from (yyyy-mm-dd).")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Dated to (yyyy-mm-dd).")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Number, id, vendor or key prefix.")] = None,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="Queue the replay for `zbsn worker` (PostgreSQL) and return.")
    ] = False,
) -> None:
    """Replay records: masters are re-read first, so a cost center created since is picked up."""
    filtering = any(v is not None for v in (kind, run_id, period_from, period_to, text))
    selecting = all_failed or servicenow_fixable
    if bool(audit_ids) == selecting:
        die(
            "give audit ids, or --all-failed and/or --servicenow-fixable (optionally with filters)",
            EXIT_USAGE,
        )
    if audit_ids and filtering:
        die("filters apply to --all-failed and --servicenow-fixable only", EXIT_USAGE)
    where = ReplayFilter(
        status=AuditStatus.FAILED if all_failed else None,
        servicenow_fixable=servicenow_fixable,
        kind=kind,
        run_id=run_id,
        date_from=parse_day(period_from, "--from"),
        date_to=parse_day(period_to, "--to"),
        text=text,
    )
    services = open_cli_services(ctx)
    workspace = services.workspace
    if enqueue:
        with cli_errors():
            chosen = workspace.resolve_profile(profile)
            queued = list(audit_ids) if audit_ids else History(services.db, chosen.id).replay_ids(None, where)
        enqueue_replay(services, chosen.id, chosen.name, queued, json_output)
    with cli_errors():
        chosen = workspace.resolve_profile(profile)
        bars = StageProgress(enabled=not json_output and err_console.is_terminal)
        with bars.progress:
            ids = list(audit_ids) if audit_ids else None
            summary = run_async(
                run_cancellable(
                    lambda cancel: services.engine.replay(
                        chosen.id, ids, None if ids else where, bars, cancel
                    )
                )
            )
        workspace.persist_token_states()
    code = exit_code_for_run(summary.status, summary.message)
    if json_output:
        emit_json(summary_json(summary, chosen.name) | {"exit_code": code})
    else:
        typer.echo(
            f"Replay run {summary.run_id} {summary.status}: {summary.staged} staged, {summary.failed} still "
            f"failing, {summary.skipped} skipped."
        )
        if summary.message:
            note(summary.message)
    raise typer.Exit(code)
