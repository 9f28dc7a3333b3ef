"""`zbsn schedule …`: cron schedules per profile, run by `zbsn serve`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from zbsn.core.cli.app import app, emit_json
from zbsn.core.cli.cmd_shared import (
    EXIT_USAGE,
    JsonOption,
    ProfileOption,
    die,
    open_cli_services,
    open_workspace,
)
from zbsn.core.scheduling import ScheduleError, ScheduleService, ScheduleView, describe_cron, next_runs

schedule_app = typer.Typer(help="Cron schedules (run by `zbsn serve`).", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


def _service(ctx: typer.Context) -> ScheduleService:
    return open_cli_services(ctx).schedules


def _view_json(view: ScheduleView) -> dict[str, Any]:
    data = asdict(view)
    for key in ("last_run_at", "next_run_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _show(view: ScheduleView, json_output: bool) -> None:
    if json_output:
        emit_json(_view_json(view))
    else:
        when = view.next_run_at.isoformat() if view.next_run_at else "disabled"
        typer.echo(f"{view.id}: '{view.cron}' ({view.description}), {view.mode} run; next {when}")


@schedule_app.command("add")
def add(
    ctx: typer.Context,
    cron: Annotated[str, typer.Argument(help="minute hour day month weekday, or @daily, @hourly, …")],
    mode: Annotated[str, typer.Option("--mode", help="changed or full")] = "changed",
    name: Annotated[str | None, typer.Option("--name")] = None,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add an enabled schedule to a profile."""
    service = _service(ctx)
    try:
        profile_id = open_workspace(ctx).resolve_profile(profile).id
        _show(service.add(profile_id, cron, name=name, mode=mode), json_output)
    except (ScheduleError, LookupError, ValueError) as exc:
        die(str(exc), EXIT_USAGE)


@schedule_app.command("list")
def list_schedules(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Every schedule with its next run."""
    views = _service(ctx).list_schedules()
    if json_output:
        emit_json([_view_json(view) for view in views])
        return
    for view in views:
        _show(view, False)


@schedule_app.command("preview")
def preview(
    cron: Annotated[str, typer.Argument(help="A cron expression to explain.")],
    count: Annotated[int, typer.Option("--count", min=1, max=50)] = 5,
) -> None:
    """Explain a cron expression in words and list its next run times (UTC)."""
    try:
        typer.echo(describe_cron(cron))
        for moment in next_runs(cron, count):
            typer.echo(f"  {moment.isoformat()}")
    except ScheduleError as exc:
        die(str(exc), EXIT_USAGE)


def _change(ctx: typer.Context, schedule_id: int, action: str, json_output: bool) -> None:
    service = _service(ctx)
    try:
        if action == "delete":
            service.delete(schedule_id)
            typer.echo(f"deleted schedule {schedule_id}")
            return
        _show(service.set_enabled(schedule_id, action == "enable"), json_output)
    except ScheduleError as exc:
        die(str(exc), EXIT_USAGE)


@schedule_app.command("enable")
def enable(ctx: typer.Context, schedule_id: int, json_output: JsonOption = False) -> None:
    """Enable a schedule."""
    _change(ctx, schedule_id, "enable", json_output)


@schedule_app.command("disable")
def disable(ctx: typer.Context, schedule_id: int, json_output: JsonOption = False) -> None:
    """Disable a schedule."""
    _change(ctx, schedule_id, "disable", json_output)


@schedule_app.command("delete")
def delete(ctx: typer.Context, schedule_id: int) -> None:
    """Delete a schedule."""
    _change(ctx, schedule_id, "delete", False)
