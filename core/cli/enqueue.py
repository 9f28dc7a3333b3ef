"""`--enqueue` of `zbsn sync` and `zbsn replay`: hand the run to the workers instead of running it here."""

from __future__ import annotations

from typing import Any

import typer

from zbsn.core.cli.app import emit_json
from zbsn.core.cli.cmd_shared import EXIT_OK, EXIT_USAGE, die, run_async
from zbsn.core.domain import RunTrigger
from zbsn.core.services import Services


def require_jobs(services: Services) -> None:
    """Exit with a usage error unless this deployment queues jobs (PostgreSQL, procrastinate)."""
    if not services.jobs_enabled:
        die(
            "--enqueue needs a PostgreSQL database with the job queue (pip install 'zbsn[postgres]')",
            EXIT_USAGE,
        )


def enqueue_syncs(services: Services, profiles: list[tuple[int, str]], mode: str, json_output: bool) -> None:
    """Queue a sync of each (profile id, name); one already waiting is left as it is."""
    from zbsn.core.jobs.queue import JobQueue, with_queue

    require_jobs(services)

    async def body(queue: JobQueue) -> list[dict[str, Any]]:
        done = []
        for profile_id, name in profiles:
            job = await queue.sync(profile_id, mode, RunTrigger.MANUAL)
            done.append({"profile_id": profile_id, "profile": name, "job_id": job, "queued": job is not None})
        return done

    queued = run_async(with_queue(services.job_app(), body))
    if json_output:
        emit_json(queued)
    else:
        for item in queued:
            what = f"job {item['job_id']}" if item["queued"] else "already queued"
            typer.echo(f"{item['profile']}: sync ({mode}) {what}")
    raise typer.Exit(EXIT_OK)


def enqueue_replay(
    services: Services, profile_id: int, name: str, audit_ids: list[int], json_output: bool
) -> None:
    """Queue a replay of these audit records."""
    from zbsn.core.jobs.queue import JobQueue, with_queue

    require_jobs(services)

    async def body(queue: JobQueue) -> int | None:
        return await queue.replay(profile_id, audit_ids)

    job = run_async(with_queue(services.job_app(), body))
    if json_output:
        emit_json({"profile_id": profile_id, "profile": name, "job_id": job, "records": len(audit_ids)})
    else:
        typer.echo(f"{name}: replay of {len(audit_ids)} record(s) queued as job {job}")
    raise typer.Exit(EXIT_OK)
