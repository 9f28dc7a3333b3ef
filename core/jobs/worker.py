"""One worker process: runs the queue's jobs with this process's `Services` until asked to stop.

`zbsn worker` runs one per process (`--processes N` starts N); any number run on any hosts against one
PostgreSQL database. Stopping (SIGTERM/SIGINT, or `stop` set) is graceful: no new job is taken, the running
ones may finish for `jobs.shutdown_wait_seconds`, then they are cancelled; a worker killed outright is found
by the others (`jobs.stalled_after_seconds` without its heartbeat) and its jobs go back in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING

from zbsn.core.jobs.app import job_app
from zbsn.core.jobs.queue import QUEUE

if TYPE_CHECKING:
    from zbsn.core.services import Services

log = logging.getLogger(__name__)


def worker_name() -> str:
    """`zbsn@host:pid`, as the worker appears in procrastinate's tables and the logs."""
    return f"zbsn@{socket.gethostname()}:{os.getpid()}"


async def run_worker(services: Services, stop: asyncio.Event, *, concurrency: int | None = None) -> None:
    """Run jobs until `stop` is set (then shut down gracefully, see the module docstring)."""
    settings = services.settings.jobs
    app = job_app(services.db, settings)
    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                name=worker_name(),
                concurrency=concurrency or settings.concurrency,
                additional_context={"services": services},
                install_signal_handlers=False,  # the owner of the loop handles signals and sets `stop`
                update_heartbeat_interval=settings.heartbeat_seconds,
                stalled_worker_timeout=settings.stalled_after_seconds,
                shutdown_graceful_timeout=settings.shutdown_wait_seconds,
                delete_jobs="successful",
            ),
            name="zbsn-worker",
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not worker.done():
            worker.cancel()  # procrastinate's graceful shutdown: running jobs get their time to finish
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


__all__ = ["run_worker", "worker_name"]
