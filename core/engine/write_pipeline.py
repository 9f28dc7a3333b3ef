"""Batch writes kept in flight while the next batch is read and mapped.

A bill batch's write spends most of its time waiting on ServiceNow's asynchronous transform (header, then
lines, then tax lines, each polled), so the bills stage keeps up to `SyncRunner.writes_in_flight` of them
going at once (see there for the measurements). Batches hold distinct records, so their writes are
independent; a batch repeating a record still being written (a page Zoho repeated) waits for every earlier
write first (`overlaps`, then `drain`), so it sees that record's outcome. With `in_flight=0` each batch is
written before `submit` returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from zbsn.core.engine.audit_writer import AuditEntry, Completion

Write = Callable[[Sequence[AuditEntry]], Awaitable[list[Completion]]]


class WritePipeline:
    """At most `in_flight` batch writes going on behind the caller, oldest first."""

    def __init__(self, write: Write, in_flight: int) -> None:
        if in_flight < 0:
            raise ValueError("in_flight must be 0 or more")
        self._write = write
        self._in_flight = in_flight
        self._writes: list[tuple[asyncio.Future[list[Completion]], set[str]]] = []

    def overlaps(self, ids: set[str]) -> bool:
        """True when one of these record ids is in a write still going on."""
        return any(ids & writing for _task, writing in self._writes)

    async def submit(self, entries: Sequence[AuditEntry], ids: set[str]) -> None:
        """Start this batch's write once fewer than `in_flight` are going on (the oldest's error raised)."""
        if self._in_flight == 0:
            await self._write(entries)
            return
        while len(self._writes) >= self._in_flight:
            task, _ids = self._writes.pop(0)
            await task
        self._writes.append((asyncio.ensure_future(self._write(entries)), ids))

    async def drain(self) -> None:
        """Wait for every write going on, oldest first (the first error is raised here)."""
        while self._writes:
            task, _ids = self._writes.pop(0)
            await task

    async def abandon(self) -> None:
        """On the way out with an error: let the writes going on end (their rows are then final or pending,
        never half-written); the error already being raised wins over theirs."""
        tasks, self._writes = [task for task, _ids in self._writes], []
        if tasks:
            await asyncio.wait(tasks)
            for task in tasks:
                if not task.cancelled():
                    task.exception()
