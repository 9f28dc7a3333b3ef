"""The procrastinate App of a zbsn database: its connector and zbsn's tasks (see `core/jobs/__init__.py`).

Tasks find the worker's `Services` in the job context (`additional_context["services"]`, set by
`worker.run_worker`). Two periodic tasks tick every `jobs.tick_seconds`: `zbsn.dispatch` (due schedules and
waiting webhook events become jobs) and `zbsn.recover` (the jobs of a worker that stopped beating go back in
the queue). procrastinate defers a periodic task once per tick, whichever of the workers on whichever host
defers it (its `procrastinate_periodic_defers` table); their queueing locks keep one of each waiting.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy

from zbsn.core.engine.lock import RunLocked
from zbsn.core.jobs.queue import QUEUE, REPLAY_TASK, SYNC_TASK, WEBHOOKS_TASK, JobQueue
from zbsn.core.jobs.tasks import (
    InboxDeferred,
    dispatch,
    drain_webhooks,
    recover_stalled,
    run_replay,
    run_sync,
)
from zbsn.core.settings import JobsSettings

# The profile's run lock is held by a run outside the queue (a console run, a cron `zbsn sync`) or by a run
# whose process died on another host (taken over once its heartbeat is stale, 90 s): try again a little later.
LOCKED_RETRY = RetryStrategy(max_attempts=60, wait=5, retry_exceptions={RunLocked, InboxDeferred})


def conninfo(engine: sa.Engine) -> str:
    """The libpq URL of a SQLAlchemy PostgreSQL engine (procrastinate's psycopg pool takes it)."""
    if engine.dialect.name != "postgresql":
        raise ValueError("jobs need PostgreSQL: SQLite deployments run `zbsn serve` alone")
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _services(context: JobContext) -> Any:
    return context.additional_context["services"]


def job_app(engine: sa.Engine, settings: JobsSettings | None = None) -> App:
    """The App on `engine`'s database with zbsn's tasks (open it with `open_async` before use)."""
    settings = settings or JobsSettings()
    app = App(connector=PsycopgConnector(conninfo=conninfo(engine), kwargs={"application_name": "zbsn"}))
    tick = f"* * * * * */{settings.tick_seconds}"  # procrastinate reads a sixth column as seconds

    @app.task(name=SYNC_TASK, queue=QUEUE, pass_context=True, retry=LOCKED_RETRY)
    async def sync(
        context: JobContext, profile_id: int, mode: str = "changed", trigger: str = "manual"
    ) -> str:
        return await run_sync(_services(context), profile_id, mode, trigger)

    @app.task(name=REPLAY_TASK, queue=QUEUE, pass_context=True, retry=LOCKED_RETRY)
    async def replay(context: JobContext, profile_id: int, audit_ids: list[int] | None = None) -> str:
        return await run_replay(_services(context), profile_id, audit_ids)

    @app.task(name=WEBHOOKS_TASK, queue=QUEUE, pass_context=True, retry=LOCKED_RETRY)
    async def webhooks(context: JobContext, profile_id: int) -> int:
        return await drain_webhooks(_services(context), profile_id)

    @app.periodic(cron=tick, periodic_id="tick")
    @app.task(name="zbsn.dispatch", queue=QUEUE, queueing_lock="zbsn.dispatch", pass_context=True)
    async def dispatch_due(context: JobContext, timestamp: int) -> dict[str, int]:
        return await dispatch(_services(context), JobQueue(context.app))

    @app.periodic(cron=tick, periodic_id="tick")
    @app.task(name="zbsn.recover", queue=QUEUE, queueing_lock="zbsn.recover", pass_context=True)
    async def recover(context: JobContext, timestamp: int) -> int:
        return await recover_stalled(context.app, settings.stalled_after_seconds)

    return app


__all__ = ["LOCKED_RETRY", "conninfo", "job_app"]
