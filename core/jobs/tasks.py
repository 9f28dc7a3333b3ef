"""What each job does, over the `Services` of the worker that runs it (see `core/jobs/__init__.py`).

The bodies take the services (and a `JobQueue` where they enqueue), so tests call them without a worker.
A run that finds its profile's database lock held (a console run, a cron `zbsn sync`) raises `RunLocked`;
procrastinate runs the job again a little later (`app.LOCKED_RETRY`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from zbsn.core.domain import RunTrigger
from zbsn.core.engine.lock import RunLocked
from zbsn.core.jobs.queue import JobQueue
from zbsn.core.webhooks.inbox import WebhookInbox
from zbsn.core.webhooks.processor import InboxProcessor

if TYPE_CHECKING:
    from procrastinate import App

    from zbsn.core.services import Services

log = logging.getLogger(__name__)


class InboxDeferred(Exception):
    """Events of the profile are still waiting (its lock was held); the job runs again later."""


async def run_sync(services: Services, profile_id: int, mode: str, trigger: str) -> str:
    """One sync run of a profile; returns its status (raises `RunLocked` when another run holds it)."""
    summary = await services.engine.run(profile_id, mode=mode, trigger=trigger)
    await asyncio.to_thread(services.workspace.persist_token_states)
    log.info("job: %s run %s of profile %s: %s", trigger, summary.run_id, profile_id, summary.status)
    return summary.status


async def run_replay(services: Services, profile_id: int, audit_ids: list[int] | None) -> str:
    """Replay these records (None: every failed one) with the current mappings; returns the run's status."""
    summary = await services.engine.replay(profile_id, audit_ids)
    await asyncio.to_thread(services.workspace.persist_token_states)
    return summary.status


async def drain_webhooks(services: Services, profile_id: int) -> int:
    """Hand the profile's stored webhook events to the engine, oldest first; returns how many settled."""

    async def handle_bill(pid: int, bill: dict[str, Any], event_type: str) -> object:
        return await services.engine.process_webhook_bill(pid, bill, event_type)

    async def handle_payment(pid: int, payment: dict[str, Any], event_type: str) -> object:
        return await services.engine.process_webhook_payment(pid, payment, event_type)

    inbox = WebhookInbox(services.db, services.workspace.clock)
    processor = InboxProcessor(
        inbox,
        handle_bill,
        is_retryable=lambda exc: isinstance(exc, RunLocked),
        handle_payment=handle_payment,
    )
    settled = 0
    while True:
        done = await processor.drain_once(profile_id=profile_id)
        settled += done
        waiting = await asyncio.to_thread(inbox.pending, 1, profile_id)
        if not waiting:
            return settled
        if done == 0:  # the first waiting event was refused for now (its profile's run lock is held)
            raise InboxDeferred(f"profile {profile_id}: {len(waiting)}+ webhook event(s) wait for its lock")


async def dispatch(services: Services, queue: JobQueue) -> dict[str, int]:
    """The periodic tick: a sync job for every due schedule (claimed once, whichever worker ticks) and a
    drain job for every profile whose webhook events wait (a receiver's enqueue may have been lost)."""
    due = await asyncio.to_thread(services.schedules.claim_due)
    queued = 0
    for schedule in due:
        if await queue.sync(schedule.profile_id, schedule.mode, RunTrigger.SCHEDULE) is not None:
            queued += 1
    inbox = WebhookInbox(services.db, services.workspace.clock)
    drains = 0
    for profile_id in await asyncio.to_thread(inbox.profiles_waiting):
        if await queue.webhooks(profile_id) is not None:
            drains += 1
    return {"schedules_due": len(due), "syncs_queued": queued, "drains_queued": drains}


async def recover_stalled(app: App, stalled_after_s: float) -> int:
    """Put the jobs of workers that stopped beating back in the queue (a killed worker's run is resumed by
    the next one, which takes its run lock over); returns how many."""
    from procrastinate.exceptions import ConnectorException
    from procrastinate.jobs import Status

    recovered = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s):
        assert job.id is not None
        try:
            await app.job_manager.retry_job(job)
            recovered += 1
        except ConnectorException:  # the same job is queued already (its queueing lock): close this one
            await app.job_manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
        log.warning("job %s (%s) of a stopped worker: back in the queue", job.id, job.task_name)
    return recovered


__all__ = ["InboxDeferred", "dispatch", "drain_webhooks", "recover_stalled", "run_replay", "run_sync"]
