"""`zbsn sync`: run a profile now, with a progress bar per stage (stderr) and an optional JSON summary."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from zbsn.core.cli.app import app, emit_json, err_console, note
from zbsn.core.cli.cmd_shared import (
    EXIT_FAILURES,
    EXIT_OK,
    EXIT_REAUTHORISE,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ProfileOption,
    cli_errors,
    die,
    open_cli_services,
    run_async,
)
from zbsn.core.cli.enqueue import enqueue_syncs
from zbsn.core.domain import RunStatus, ServiceNowStatus
from zbsn.core.engine.events import (
    Event,
    LogLine,
    RecordFailed,
    StageFinished,
    StageProgressed,
    StageStarted,
)
from zbsn.core.engine.run_outcome import RunSummary
from zbsn.core.redaction import redact

T = TypeVar("T")
EXIT_CANCELLED = 130

STAGE_LABELS = {
    "pending": "Resend pending",
    "cost_centers": "Cost centers",
    "gl_accounts": "GL accounts",
    "suppliers": "Suppliers",
    "bills": "Bills",
    "attachments": "Documents",
    "payments": "Payments",
    "vendor_credits": "Vendor credits",
    "statuses": "ServiceNow",
}
UNREACHABLE_MARKERS = ("TransportError", "ConnectError", "ConnectTimeout", "unreachable", "ReadTimeout")


class StageProgress:
    """Renders engine events as one Rich progress bar per stage, on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<13}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not enabled,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.failures = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageStarted):
            label = STAGE_LABELS.get(event.stage, event.stage)
            self.tasks[event.stage] = self.progress.add_task(label, total=event.total, note="")
        elif isinstance(event, StageProgressed) and event.stage in self.tasks:
            self.progress.update(self.tasks[event.stage], completed=event.done, total=event.total)
        elif isinstance(event, StageFinished) and event.stage in self.tasks:
            task = self.tasks[event.stage]
            done = event.staged + event.failed + event.skipped
            total = self.progress.tasks[task].total
            if event.stage == "statuses":
                words = f"{event.staged} followed, {event.failed} need someone"
            else:
                words = f"{event.staged} staged, {event.failed} failed, {event.skipped} skipped"
            self.progress.update(
                task,
                completed=max(done, int(total or 0)),
                total=max(done, int(total or 0)) or None,
                note=words,
            )
        elif isinstance(event, RecordFailed):
            self.failures += 1
        elif isinstance(event, LogLine) and event.level != "info":
            self.progress.console.print(f"{event.level}: {redact(event.text)}", markup=False)


async def run_cancellable(start: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run `start(cancel)` with SIGINT/SIGTERM setting `cancel`: the engine stops cleanly between records."""
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, cancel.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests) or no support
            continue
    try:
        return await start(cancel)
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def exit_code_for_run(status: str, message: str | None) -> int:
    """0 succeeded, 1 completed with failures (or failed), 3 re-authorise, 5 a system was unreachable,
    130 cancelled (Ctrl-C / SIGTERM: the engine stops between records and records the run as cancelled)."""
    if status == RunStatus.SUCCEEDED:
        return EXIT_OK
    if status == RunStatus.REAUTH:
        return EXIT_REAUTHORISE
    if status == RunStatus.CANCELLED:
        return EXIT_CANCELLED
    if status == RunStatus.FAILED and message and any(m in message for m in UNREACHABLE_MARKERS):
        return EXIT_UNREACHABLE
    return EXIT_FAILURES


def servicenow_line(summary: RunSummary) -> str:
    """'ServiceNow: 30 pending approval, 2 exceptions found' (what the run's status refresh read)."""
    counts = sorted(summary.servicenow_statuses.items(), key=lambda item: -item[1])
    if not counts:
        return "ServiceNow: no staged invoice to follow."
    words = ", ".join(f"{n} {ServiceNowStatus(s).label.lower()}" for s, n in counts)
    return f"ServiceNow: {words}."


def summary_json(summary: Any, profile_name: str) -> dict[str, Any]:
    """The run summary for scripts (counts, requests, status; never a secret)."""
    data: dict[str, Any] = summary.model_dump(mode="json")
    data["profile"] = profile_name
    if data.get("message"):
        data["message"] = redact(str(data["message"]))
    return data


@app.command("sync")
def sync(
    ctx: typer.Context,
    profile: ProfileOption = None,
    full: Annotated[bool, typer.Option("--full", help="List every bill (finds deletions).")] = False,
    changed: Annotated[bool, typer.Option("--changed", help="Only what changed since the last run.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
    enqueue: Annotated[
        bool, typer.Option("--enqueue", help="Queue the run for `zbsn worker` (PostgreSQL) and return.")
    ] = False,
    every_profile: Annotated[bool, typer.Option("--all", help="With --enqueue: every profile.")] = False,
) -> None:
    """Run a sync now: cost centers, GL accounts, suppliers, bills, then payments."""
    if full and changed:
        die("give --full or --changed, not both", EXIT_USAGE)
    if every_profile and (not enqueue or profile is not None):
        die("--all queues every profile: give it with --enqueue and without --profile", EXIT_USAGE)
    services = open_cli_services(ctx)
    workspace = services.workspace
    if enqueue:
        with cli_errors():
            chosen_ones = workspace.list_profiles() if every_profile else [workspace.resolve_profile(profile)]
        targets = [(p.id, p.name) for p in chosen_ones]
        enqueue_syncs(services, targets, "full" if full else "changed", json_output)
    with cli_errors():
        chosen = workspace.resolve_profile(profile)
        bars = StageProgress(enabled=not json_output and err_console.is_terminal)
        with bars.progress:
            summary = run_async(
                run_cancellable(
                    lambda cancel: services.engine.run(
                        chosen.id, mode="full" if full else "changed", events=bars, cancel=cancel
                    )
                )
            )
        workspace.persist_token_states()
    code = exit_code_for_run(summary.status, summary.message)
    if json_output:
        emit_json(summary_json(summary, chosen.name) | {"exit_code": code})
    else:
        typer.echo(
            f"Run {summary.run_id} ({summary.mode}) {summary.status}: {summary.staged} staged, "
            f"{summary.failed} failed, {summary.skipped} skipped, {summary.unchanged} unchanged; "
            f"{summary.zoho_requests} Zoho and {summary.servicenow_requests} ServiceNow requests."
        )
        if summary.message:
            note(redact(summary.message))
        if summary.servicenow_statuses:
            note(servicenow_line(summary))
        if summary.flagged:
            note(
                f"{summary.flagged} voided or deleted bill(s) flagged: cancel their invoices in ServiceNow "
                "(zbsn audit --status flagged)"
            )
        if summary.failed:
            note(f"See the failures: zbsn audit --status failed --run {summary.run_id}")
    raise typer.Exit(code)
