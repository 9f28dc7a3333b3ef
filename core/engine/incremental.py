"""The shape every incrementally read entity shares (bills, vendor payments) and the stage that reads one.

An `IncrementalEntity` names its cursor, its list call (records modified since), its detail call, the change
marker of a listed record, the listed records that need no detail (a voided bill) and how a batch of fetched
records becomes audit entries. `stage_incremental` walks the list from the cursor (minus the overlap window;
everything on a full read) in batches: per batch, the records the one "unchanged" rule (`unchanged.py`) lets
through are fetched and turned into entries, which go to a `WritePipeline`. The cursor advances only when
the whole walk succeeded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Generic, TypeVar

from zbsn.core.db.transient import transaction
from zbsn.core.engine import cursors
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.details import fetch_details
from zbsn.core.engine.entries import error_entry, modified_marker
from zbsn.core.engine.events import Stage
from zbsn.core.engine.ports import ZohoSource
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.unchanged import Known, already_failed, is_unchanged
from zbsn.core.engine.write_pipeline import WritePipeline
from zbsn.core.zoho.models import RecordError

S = TypeVar("S")  # a record as listed
D = TypeVar("D")  # its detail


@dataclass(frozen=True, slots=True)
class Fetched(Generic[S, D]):
    """One listed record with its detail (None: deleted since listed; a RecordError: unreadable)."""

    summary: S
    detail: D | RecordError | None
    marker: str | None
    previous: Known | None


def _always_fetch(run: RunSession, summary: object, marker: str | None, previous: Known | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class IncrementalEntity(Generic[S, D]):
    """How one entity is read incrementally (see the module docstring)."""

    kind: str  # RecordKind
    stage: Stage
    cursor: str  # cursors.BILLS | cursors.PAYMENTS
    list_call: Callable[[ZohoSource, str | None], AsyncIterator[S | RecordError]]
    detail_call: Callable[[ZohoSource, str], Awaitable[D | RecordError]]
    record_id: Callable[[S], str]
    modified: Callable[[S], tuple[str | None, datetime | None]]  # Zoho's raw string and the moment
    build: Callable[[RunSession, list[Fetched[S, D]]], list[AuditEntry]]
    # the entry of a listed record that needs no detail (e.g. a voided bill), else None
    without_detail: Callable[[RunSession, S, str | None, Known | None], AuditEntry | None] = _always_fetch
    per_record_failures: bool = False  # a detail Zoho cannot serve fails its record (else it stops the run)

    def marker(self, summary: S) -> str | None:
        """The change marker to dedupe on (Zoho's own string when known)."""
        return modified_marker(*self.modified(summary))


@dataclass(slots=True)
class Walk:
    """What a stage saw of its list: every id, and whether a record came without one."""

    seen: set[str] = field(default_factory=set)
    unreadable_without_id: bool = False
    done: int = 0


AfterWalk = Callable[[RunSession, Walk], Awaitable[bool]]


async def stage_incremental(
    run: RunSession,
    entity: IncrementalEntity[S, D],
    *,
    full: bool,
    pipeline: WritePipeline,
    after_full_walk: AfterWalk | None = None,
) -> None:
    """Read, map and write the entity's changed records (all of them when `full`), then save its cursor.

    `after_full_walk` (the deletion checks of bills and payments) runs after a full walk; it says whether
    the sweep is complete, which the cursor row records. A list page that fails raises before it runs.
    """
    row = transaction(run.db, lambda session: cursors.read_cursor(session, run.profile_id, entity.cursor))
    since = (
        None if full else cursors.window_start(row.cursor_value if row else None, run.context.overlap_seconds)
    )
    tracker = cursors.CursorTracker(cap=run.started, time_zone=run.context.time_zone)
    walk = Walk()
    run.stage_started(entity.stage)
    before = run.snapshot()
    batch: list[S] = []
    errors: list[AuditEntry] = []
    try:
        async for item in entity.list_call(run.zoho, since):
            if isinstance(item, RecordError):
                walk.unreadable_without_id |= item.record_id is None
                if item.record_id:
                    walk.seen.add(item.record_id)
                errors.append(error_entry(entity.kind, item, run.context))
                continue
            walk.seen.add(entity.record_id(item))
            tracker.observe(*entity.modified(item))
            batch.append(item)
            if len(batch) >= run.options.batch_size:
                walk.done += len(batch)
                await _one_batch(run, entity, pipeline, batch, errors)
                batch, errors = [], []
                run.progress(entity.stage, walk.done)
        walk.done += len(batch)
        await _one_batch(run, entity, pipeline, batch, errors)
        await pipeline.drain()
    except BaseException:
        await pipeline.abandon()
        raise
    run.progress(entity.stage, walk.done)
    swept = full and after_full_walk is not None and await after_full_walk(run, walk)
    value, now = tracker.value(), run.clock.now()
    transaction(
        run.db,
        lambda session: cursors.save_cursor(
            session, run.profile_id, entity.cursor, value, now, full_sweep=swept
        ),
    )
    run.stage_finished_since(entity.stage, before)


async def _one_batch(
    run: RunSession,
    entity: IncrementalEntity[S, D],
    pipeline: WritePipeline,
    summaries: list[S],
    errors: list[AuditEntry],
) -> None:
    """Plan this batch while earlier batches' writes are still going on, then hand its write over."""
    ids = {entity.record_id(s) for s in summaries} | {e.zoho_id for e in errors}
    if pipeline.overlaps(ids):
        await pipeline.drain()  # a record repeated across pages must see its earlier outcome first
    await pipeline.submit(await plan_batch(run, entity, summaries, errors), ids)


async def plan_batch(
    run: RunSession, entity: IncrementalEntity[S, D], summaries: list[S], errors: list[AuditEntry]
) -> list[AuditEntry]:
    """The audit entries of one listed batch: unchanged records counted, the others fetched and built."""
    run.checkpoint()
    known = run.history.known(
        entity.kind, [entity.record_id(s) for s in summaries] + [e.zoho_id for e in errors]
    )
    entries = fresh_errors(run, errors, known)
    to_fetch: list[tuple[S, str | None, Known | None]] = []
    for summary in summaries:
        marker = entity.marker(summary)
        previous = known.get(entity.record_id(summary))
        if is_unchanged(previous, marker):
            run.counters.unchanged += 1
            continue
        entry = entity.without_detail(run, summary, marker, previous)
        if entry is not None:
            entries.append(entry)
        else:
            to_fetch.append((summary, marker, previous))
    details = await fetch_details(
        [entity.record_id(summary) for summary, _marker, _previous in to_fetch],
        partial(entity.detail_call, run.zoho),
        entity=entity.kind,
        concurrency=run.options.detail_concurrency,
        per_record_failures=entity.per_record_failures,
    )
    fetched = [
        Fetched(summary, detail, marker, previous)
        for (summary, marker, previous), detail in zip(to_fetch, details, strict=True)
    ]
    return entries + entity.build(run, fetched)


def fresh_errors(run: RunSession, errors: list[AuditEntry], known: dict[str, Known]) -> list[AuditEntry]:
    """Unreadable records not already failed at the same change marker (those count as unchanged)."""
    fresh = []
    for entry in errors:
        if already_failed(known.get(entry.zoho_id), entry.zoho_modified):
            run.counters.unchanged += 1
        else:
            fresh.append(entry)
    return fresh
