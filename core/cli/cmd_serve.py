"""`zbsn serve`: schedules and the webhook receiver, headless, until SIGTERM/SIGINT (graceful shutdown)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated, Any

import typer
from sqlmodel import select

from zbsn.core.cli.app import app, note
from zbsn.core.cli.cmd_shared import cli_errors, open_workspace
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import SyncProfile
from zbsn.core.engine.lock import RunLocked
from zbsn.core.webhooks.runtime import ServeRuntime
from zbsn.core.workspace import Workspace


def build_runtime(
    workspace: Workspace, *, host: str, port: int, webhooks: bool, schedules: bool
) -> ServeRuntime:
    """The runtime for this workspace: scheduled runs and webhook bills go through the engine."""
    runner = workspace.engine_service()
    settings = workspace.settings.webhook
    secret = settings.secret.get_secret_value() if settings.secret is not None else None

    async def start_run(profile_id: int, mode: str) -> Any:
        summary = await runner.run(profile_id, mode=mode, trigger="schedule")
        workspace.persist_token_states()
        note(f"scheduled run {summary.run_id} of profile {profile_id}: {summary.status}")
        return summary.status

    async def handle_bill(profile_id: int, bill: dict[str, Any], event_type: str) -> Any:
        return await runner.process_webhook_bill(profile_id, bill, event_type)

    def secret_for_profile(profile_id: int) -> str | None:
        with session_scope(workspace.db_engine) as session:
            known = session.exec(select(SyncProfile.id).where(SyncProfile.id == profile_id)).first()
        return secret if known is not None else None

    return ServeRuntime(
        workspace.db_engine,
        handle_bill=handle_bill,
        start_run=start_run if schedules else None,
        secret_for_profile=secret_for_profile,
        host=host,
        port=port,
        replay_window_seconds=settings.replay_window_seconds,
        is_retryable=lambda exc: isinstance(exc, RunLocked),
        clock=workspace.clock,
        receive_webhooks=webhooks,
    )


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address (default: webhook.host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Receiver port (default: webhook.port).")] = None,
    no_webhooks: Annotated[bool, typer.Option("--no-webhooks", help="Do not receive webhooks.")] = False,
    no_schedules: Annotated[bool, typer.Option("--no-schedules", help="Do not run schedules.")] = False,
) -> None:
    """Run schedules and receive Zoho webhooks until stopped (SIGTERM or Ctrl-C finish the work in hand)."""
    workspace = open_workspace(ctx)
    settings = workspace.settings.webhook
    if not no_webhooks and settings.secret is None:
        note("warning: no webhook secret (webhook.secret / ZBSN_WEBHOOK__SECRET): every webhook gets 401")
    runtime = build_runtime(
        workspace,
        host=host or settings.host,
        port=settings.port if port is None else port,
        webhooks=not no_webhooks,
        schedules=not no_schedules,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runtime.request_stop)
        serving = asyncio.create_task(runtime.serve())
        await runtime.wait_started()
        where = f"webhooks on {runtime.url}/zoho/webhook/<profile_id>" if runtime.url else "no webhooks"
        note(f"zbsn serve: {where}; schedules {'off' if no_schedules else 'on'}. SIGTERM stops.")
        await serving
        note("zbsn serve: stopped.")

    with cli_errors():
        asyncio.run(main())
