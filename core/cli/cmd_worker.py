"""`zbsn worker`: run queued jobs (syncs, replays, webhook events, schedules) on a PostgreSQL deployment.

Start as many as you like on as many hosts as you like, all pointed at the same database: procrastinate
hands each job to one worker, one profile is never worked by two at once, and the Zoho budget of each org
is shared by all of them (`budget_store`). `--processes N` runs N worker processes on this host (the
parent restarts one that dies and forwards SIGTERM/SIGINT for a graceful stop).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Annotated

import typer

from zbsn.core.cli.app import app, note, state
from zbsn.core.cli.cmd_shared import EXIT_USAGE, cli_errors, die, open_cli_services
from zbsn.core.jobs.worker import run_worker, worker_name
from zbsn.core.services import Services

RESTART_WAIT_S = 2.0


@app.command("worker")
def worker(
    ctx: typer.Context,
    processes: Annotated[int, typer.Option("--processes", min=1, help="Worker processes on this host.")] = 1,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, help="Jobs one process runs at once (jobs.concurrency)."),
    ] = None,
) -> None:
    """Run queued jobs until SIGTERM or Ctrl-C (running jobs finish first); PostgreSQL deployments only."""
    services = open_cli_services(ctx)
    if not services.jobs_enabled:
        die(
            "zbsn worker needs a PostgreSQL database with jobs.enabled and procrastinate "
            "(pip install 'zbsn[postgres]'); a SQLite deployment runs `zbsn serve` alone",
            EXIT_USAGE,
        )
    if processes > 1:
        raise typer.Exit(_supervise(ctx, services, processes, concurrency))
    _run_one(services, concurrency)


def _run_one(services: Services, concurrency: int | None) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        note(f"{worker_name()}: waiting for jobs on {services.database_url}. SIGTERM stops.")
        await run_worker(services, stop, concurrency=concurrency)
        note(f"{worker_name()}: stopped.")

    with cli_errors():
        asyncio.run(main())


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env)  # noqa: S603 - this interpreter running zbsn itself


def _supervise(ctx: typer.Context, services: Services, processes: int, concurrency: int | None) -> int:
    """Run `processes` single workers as children; restart one that dies; stop them all on a signal."""
    cli = state(ctx)
    # the URL travels in the environment, never on a command line other users can read
    env = {**os.environ, "ZBSN_DATABASE_URL": services.db.url.render_as_string(hide_password=False)}
    command = [sys.executable, "-m", "zbsn.core.cli.main"]
    if cli.config_path is not None:
        command += ["--config", str(cli.config_path)]
    command += ["worker", "--processes", "1"]
    if concurrency is not None:
        command += ["--concurrency", str(concurrency)]
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    children = [_start(command, env) for _ in range(processes)]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    note(f"zbsn worker: {processes} processes. SIGTERM stops them (running jobs finish first).")
    while not stopping:
        time.sleep(0.5)
        for index, child in enumerate(children):
            if child.poll() is not None and not stopping:
                note(f"zbsn worker: process {child.pid} ended ({child.returncode}); starting another")
                time.sleep(RESTART_WAIT_S)
                children[index] = _start(command, env)
    for child in children:
        child.wait()
    return 0
