"""`zbsn serve`: schedules and the webhook receiver, headless, until SIGTERM/SIGINT (graceful shutdown)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from zbsn.core.cli.app import app, note
from zbsn.core.cli.cmd_shared import cli_errors, open_cli_services


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Address (default: webhook.host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Receiver port (default: webhook.port).")] = None,
    no_webhooks: Annotated[bool, typer.Option("--no-webhooks", help="Do not receive webhooks.")] = False,
    no_schedules: Annotated[bool, typer.Option("--no-schedules", help="Do not run schedules.")] = False,
) -> None:
    """Run schedules and receive Zoho webhooks until stopped (SIGTERM or Ctrl-C finish the work in hand).

    On PostgreSQL with the job queue it only receives webhooks and queues them; `zbsn worker` runs them and
    the schedules."""
    services = open_cli_services(ctx)
    settings = services.settings.webhook
    if not no_webhooks and settings.secret is None:
        note("warning: no webhook secret (webhook.secret / ZBSN_WEBHOOK__SECRET): every webhook gets 401")
    runtime = services.serve_runtime(
        host=host,
        port=port,
        webhooks=not no_webhooks,
        schedules=not no_schedules,
        on_scheduled_run=lambda s: note(f"scheduled run {s.run_id} of profile {s.profile_id}: {s.status}"),
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runtime.request_stop)
        serving = asyncio.create_task(runtime.serve())
        await runtime.wait_started()
        where = f"webhooks on {runtime.url}/zoho/webhook/<profile_id>" if runtime.url else "no webhooks"
        if runtime.job_app is not None:
            note(f"zbsn serve: {where}, queued for `zbsn worker`, which runs the schedules. SIGTERM stops.")
        else:
            note(f"zbsn serve: {where}; schedules {'off' if no_schedules else 'on'}. SIGTERM stops.")
        await serving
        note("zbsn serve: stopped.")

    with cli_errors():
        asyncio.run(main())
