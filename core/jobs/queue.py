"""Enqueue a profile's jobs: a sync, a replay, a drain of its webhook inbox (see `core/jobs/__init__.py`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from procrastinate.exceptions import AlreadyEnqueued

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.types import JSONValue

log = logging.getLogger(__name__)
T = TypeVar("T")

QUEUE = "zbsn"
SYNC_TASK = "zbsn.sync"
REPLAY_TASK = "zbsn.replay"
WEBHOOKS_TASK = "zbsn.webhooks"


def profile_lock(profile_id: int) -> str:
    """The procrastinate lock every job of a profile holds: one such job runs at a time, in order."""
    return f"profile:{profile_id}"


class JobQueue:
    """Defers zbsn's jobs on an open procrastinate App; each call returns the job id, or None when the same
    job of the profile is already waiting in the queue (its queueing lock)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def sync(self, profile_id: int, mode: str = "changed", trigger: str = "manual") -> int | None:
        """A sync run of the profile (at most one waiting per profile; one may be running besides)."""
        deferrer = self.app.configure_task(
            SYNC_TASK, lock=profile_lock(profile_id), queueing_lock=f"sync:{profile_id}", queue=QUEUE
        )
        try:
            return await deferrer.defer_async(profile_id=profile_id, mode=mode, trigger=trigger)
        except AlreadyEnqueued:
            log.info("a sync of profile %s is queued already", profile_id)
            return None

    async def replay(self, profile_id: int, audit_ids: list[int] | None = None) -> int | None:
        """A replay of these audit records (None: every failed record) with the current mappings."""
        deferrer = self.app.configure_task(REPLAY_TASK, lock=profile_lock(profile_id), queue=QUEUE)
        ids: list[JSONValue] | None = None if audit_ids is None else list(audit_ids)
        return await deferrer.defer_async(profile_id=profile_id, audit_ids=ids)

    async def webhooks(self, profile_id: int) -> int | None:
        """A drain of the profile's webhook inbox (at most one waiting per profile)."""
        deferrer = self.app.configure_task(
            WEBHOOKS_TASK, lock=profile_lock(profile_id), queueing_lock=f"webhooks:{profile_id}", queue=QUEUE
        )
        try:
            return await deferrer.defer_async(profile_id=profile_id)
        except AlreadyEnqueued:
            return None


async def with_queue(app: App, body: Callable[[JobQueue], Awaitable[T]]) -> T:
    """Open `app`, run `body(queue)`, close it (for a command that enqueues and exits)."""
    async with app.open_async():
        return await body(JobQueue(app))


__all__ = ["QUEUE", "REPLAY_TASK", "SYNC_TASK", "WEBHOOKS_TASK", "JobQueue", "profile_lock", "with_queue"]
