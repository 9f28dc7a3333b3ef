"""A sync run of one profile: masters aligned, then suppliers, bills and payments staged exactly once.

Order: cost centers and GL accounts (mapping tables refreshed from both sides), suppliers, bills, payments.
Pending audit rows left by a crashed run are resent first. Bills are read incrementally (cursor minus the
overlap window); a bill whose list row carries the modified time already in the audit log costs no detail
request. A full sweep (mode "full", or every `full_sweep_hours`) lists every bill and cancels the invoices
of bills gone from Zoho. Cursors advance only when their entity finished. See `core/engine/__init__.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SupplierMap, SyncProfile, SyncRun
from zbsn.core.domain import AuditStatus, MappingStatus, RecordKind, RunStatus
from zbsn.core.engine import columns as colnames
from zbsn.core.engine import cursors, lock
from zbsn.core.engine.audit_lookup import known_audits, staged_header
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion
from zbsn.core.engine.collector import fewer_collections
from zbsn.core.engine.entries import (
    BillRef,
    error_entry,
    invoice_entry,
    modified_marker,
    payment_entry,
    resend_entry,
)
from zbsn.core.engine.events import (
    EventSink,
    RunFinished,
    RunStarted,
    Stage,
    StageFinished,
    StageProgressed,
    StageStarted,
)
from zbsn.core.engine.mapping_index import MappingIndex, load_mapping_index
from zbsn.core.engine.masters import (
    ServiceNowMasters,
    align_cost_centers,
    align_gl_accounts,
    align_suppliers,
    fetch_cost_center_dimension,
    fetch_servicenow_masters,
    fetch_vendors,
)
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.run_context import load_profile, resolve_context
from zbsn.core.engine.staging_batch import write_batch
from zbsn.core.engine.telemetry import Counters, Telemetry
from zbsn.core.engine.transform import cancellation_rows, supplier_rows
from zbsn.core.servicenow.errors import ServiceNowReauthorize
from zbsn.core.zoho.errors import ZohoApiError, ZohoNotFound, ZohoRateLimited, ZohoReauthorize
from zbsn.core.zoho.models import (
    RecordError,
    ZohoAccount,
    ZohoBill,
    ZohoBillSummary,
    ZohoVendorPayment,
)

T = TypeVar("T")
ZohoFactory = Callable[[SyncProfile], ZohoSource | Awaitable[ZohoSource]]
ServiceNowFactory = Callable[[SyncProfile], ServiceNowTarget | Awaitable[ServiceNowTarget]]
# When every detail of a batch at least this big fails, the trouble is Zoho's, not the bills'.
SYSTEMIC_FAILURE_BATCH = 3


class SourceUnavailable(RecordError):
    """Zoho kept failing to serve one record after the client's retries (the record may be fine)."""


_DONE = (AuditStatus.STAGED, AuditStatus.CANCELLED, AuditStatus.FAILED, AuditStatus.SKIPPED)
_KIND_ORDER: dict[str, int] = {
    RecordKind.SUPPLIER.value: 0,
    RecordKind.BILL.value: 1,
    RecordKind.PAYMENT.value: 2,
}


class RunCancelled(Exception):
    """The operator cancelled the run (between batches)."""


class LockLost(Exception):
    """Another run took this run's lock (its heartbeat was judged stale)."""


class RunSummary(BaseModel):
    """What a run did; also stored on its SyncRun row."""

    run_id: int
    profile_id: int
    status: str
    mode: str
    staged: int = 0
    failed: int = 0
    skipped: int = 0
    unchanged: int = 0
    cancelled: int = 0
    zoho_requests: int = 0
    servicenow_requests: int = 0
    message: str | None = None
    total_amount: str = "0"


async def open_client(factory: Callable[[SyncProfile], T | Awaitable[T]], profile: SyncProfile) -> T:
    """Call a client factory that may be sync or async."""
    made = factory(profile)
    if inspect.isawaitable(made):
        return await made
    return made


async def close_client(client: object) -> None:
    """Close a client that has `aclose()`."""
    closer = getattr(client, "aclose", None)
    if closer is not None:
        with contextlib.suppress(Exception):
            await closer()


class SyncRunner:
    """Runs profiles. Build it with the DB and two client factories (each called with the profile row)."""

    DEFAULT_BATCH_SIZE = 100
    DEFAULT_WRITES_IN_FLIGHT = 8

    def __init__(
        self,
        db: sa.Engine,
        zoho_factory: ZohoFactory,
        servicenow_factory: ServiceNowFactory,
        clock: Clock | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        detail_concurrency: int = 8,
        writes_in_flight: int = DEFAULT_WRITES_IN_FLIGHT,
        stale_after_s: float = lock.DEFAULT_STALE_AFTER_S,
        heartbeat_s: float = 15.0,
    ) -> None:
        self.db = db
        self.zoho_factory = zoho_factory
        self.servicenow_factory = servicenow_factory
        self.clock: Clock = clock or SystemClock()
        self.batch_size = batch_size
        self.detail_concurrency = detail_concurrency
        if writes_in_flight < 1:
            raise ValueError("writes_in_flight must be at least 1")
        # Bill batches written at once: each spends most of its time waiting on ServiceNow's asynchronous
        # transform (header, then lines, then tax lines, each polled), so overlapping several keeps the engine
        # busy instead of idle between polls. Measured on 10,000 bills against the sandbox (2 cores): 4 in
        # flight ~810 bills/s, 8 ~980, 12 ~930, 16 ~820 (more concurrent read-backs cost more CPU than they
        # hide). Each write sends one request at a time and sleeps between polls, so an instance sees far
        # fewer than 8 concurrent requests; its 429s are honoured by the client's Retry-After handling.
        self.writes_in_flight = writes_in_flight
        self.stale_after_s = stale_after_s
        self.heartbeat_s = heartbeat_s

    async def run(
        self,
        profile_id: int,
        mode: str = "changed",
        trigger: str = "manual",
        events: EventSink | None = None,
        cancel: asyncio.Event | None = None,
    ) -> RunSummary:
        """Run one profile ("changed" or "full"); raises `lock.RunLocked` when it is already running."""
        if mode not in ("changed", "full"):
            raise ValueError(f"unknown run mode {mode!r} (changed | full)")
        return await self.session(profile_id, mode, trigger, events, cancel, RunSession.full_run)

    async def process_webhook_bill(
        self, profile_id: int, bill_payload: dict[str, Any], event_type: str, events: EventSink | None = None
    ) -> RunSummary:
        """Stage the bill a Zoho webhook carried (no Zoho request when complete); void/delete cancels."""

        async def body(run: RunSession) -> None:
            await run.webhook_bill(bill_payload, event_type)

        return await self.session(profile_id, "webhook", "webhook", events, None, body)

    async def session(
        self,
        profile_id: int,
        mode: str,
        trigger: str,
        events: EventSink | None,
        cancel: asyncio.Event | None,
        body: Callable[[RunSession], Awaitable[None]],
    ) -> RunSummary:
        """Open both clients, take the profile's lock as a new run, run `body`, record the outcome."""
        profile, _connection = load_profile(self.db, profile_id)
        zoho = await open_client(self.zoho_factory, profile)
        servicenow = await open_client(self.servicenow_factory, profile)
        try:
            run = RunSession(self, profile, zoho, servicenow, mode, trigger, Telemetry(events), cancel)
            with fewer_collections():
                return await run.execute(lambda: body(run))
        finally:
            await close_client(zoho)
            await close_client(servicenow)


class RunSession:
    """The state of one run: clients, lock lease, audit writer, counters."""

    def __init__(
        self,
        runner: SyncRunner,
        profile: SyncProfile,
        zoho: ZohoSource,
        servicenow: ServiceNowTarget,
        mode: str,
        trigger: str,
        telemetry: Telemetry,
        cancel: asyncio.Event | None,
    ) -> None:
        self.runner, self.db, self.clock = runner, runner.db, runner.clock
        assert profile.id is not None
        self.profile, self.profile_id = profile, profile.id
        self.zoho, self.servicenow = zoho, servicenow
        self.mode, self.trigger, self.telemetry, self.cancel = mode, trigger, telemetry, cancel
        self.counters = Counters()
        self.started = self.clock.now()
        self.run_id = 0
        self.lease: lock.Lease | None = None
        self.lock_lost = False
        self.context: RunContext
        self.writer: AuditWriter
        self.index: MappingIndex
        self.zoho_base = zoho.request_count
        self.sn_base = servicenow.request_count
        # The bills stage's batch writes in flight (oldest first) while the next batch is read and mapped,
        # each with its bill ids.
        self._writes: list[tuple[asyncio.Future[list[Completion]], set[str]]] = []

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def execute(self, body: Callable[[], Awaitable[None]]) -> RunSummary:
        run = SyncRun(
            profile_id=self.profile_id,
            trigger=self.trigger,
            mode=self.mode,
            started_at=self.started,
            heartbeat_at=self.started,
        )
        self.lease = lock.acquire(self.db, self.profile_id, run, self.started, self.runner.stale_after_s)
        self.run_id = self.lease.run_id
        self.telemetry.emit(
            RunStarted(run_id=self.run_id, profile_id=self.profile_id, mode=self.mode, trigger=self.trigger)
        )
        if self.lease.taken_over_run is not None:
            self.telemetry.log(
                "warning", f"run {self.lease.taken_over_run} was interrupted; resuming its work"
            )
        beat = asyncio.create_task(self._heartbeat())
        status, message = RunStatus.FAILED, None
        try:
            self.context = await resolve_context(self.db, self.profile_id, self.zoho)
            self.writer = AuditWriter(self.db, self.profile_id, self.run_id, self.clock)
            self.telemetry.tokens(self.zoho, self.servicenow)
            await body()
            status = RunStatus.SUCCEEDED if self.counters.failed == 0 else RunStatus.COMPLETED_WITH_FAILURES
        except (ZohoReauthorize, ServiceNowReauthorize) as exc:
            system = "Zoho Books" if isinstance(exc, ZohoReauthorize) else "ServiceNow"
            status, message = (
                RunStatus.REAUTH,
                f"{system} needs re-authorising: {exc}. Pending records resume then.",
            )
            self.telemetry.tokens(self.zoho, self.servicenow)
        except RunCancelled:
            status, message = RunStatus.CANCELLED, "cancelled by the operator"
        except LockLost:
            status, message = RunStatus.INTERRUPTED, "another run took over this profile's lock"
        except Exception as exc:  # the run is recorded as failed with the reason; nothing sent is lost
            status, message = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        if message:
            self.telemetry.log("error" if status == RunStatus.FAILED else "warning", message)
        return self._finish(status, message)

    def _finish(self, status: str, message: str | None) -> RunSummary:
        now = self.clock.now()
        summary_status, summary_message = status, message
        summary = RunSummary(
            run_id=self.run_id,
            profile_id=self.profile_id,
            status=status,
            mode=self.mode,
            staged=self.counters.staged,
            failed=self.counters.failed,
            skipped=self.counters.skipped,
            unchanged=self.counters.unchanged,
            cancelled=self.counters.cancelled,
            zoho_requests=self.zoho.request_count - self.zoho_base,
            servicenow_requests=self.servicenow.request_count - self.sn_base,
            message=message,
            total_amount=str(self.counters.total_amount),
        )
        try:
            self._record_outcome(summary, now)
        except DBAPIError as exc:  # the database is still unreachable: end cleanly, say so
            status = summary.status = RunStatus.FAILED
            message = summary.message = (
                f"the database is unreachable ({type(exc.orig or exc).__name__}): this run's outcome"
                f" ({_outcome_text(summary_status, summary_message)}) could not be recorded; records left"
                " pending are resent by the next run, which takes over this run's lock"
            )
            self.telemetry.log("error", message)
        if self.lease is not None:
            lock.release(self.db, self.lease, (status, message or status))
        self.telemetry.emit(
            RunFinished(
                run_id=self.run_id,
                status=status,
                staged=summary.staged,
                failed=summary.failed,
                skipped=summary.skipped,
                unchanged=summary.unchanged,
                zoho_requests=summary.zoho_requests,
                servicenow_requests=summary.servicenow_requests,
                message=message,
                total_amount=self.counters.total_amount,
            )
        )
        return summary

    def _record_outcome(self, summary: RunSummary, now: datetime) -> None:
        with session_scope(self.db) as session:
            run = session.get(SyncRun, self.run_id)
            if run is not None and run.status == RunStatus.RUNNING:
                for name in (
                    "staged",
                    "failed",
                    "skipped",
                    "unchanged",
                    "zoho_requests",
                    "servicenow_requests",
                ):
                    setattr(run, name, getattr(summary, name))
                run.status, run.message, run.finished_at = summary.status, summary.message, now
                session.add(run)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.runner.heartbeat_s)
            try:
                self._beat()
            except DBAPIError as exc:  # a missed beat: the run itself meets the outage at its next write
                self.telemetry.log("warning", f"heartbeat not recorded: database unreachable ({exc.orig})")

    def _beat(self) -> None:
        if self.lease is not None and not lock.heartbeat(self.db, self.lease, self.clock.now()):
            self.lock_lost = True

    def checkpoint(self) -> None:
        """Between batches: stop when cancelled or when the lock was lost; publish the gauges."""
        if self.lock_lost:
            raise LockLost()
        if self.cancel is not None and self.cancel.is_set():
            raise RunCancelled()
        self.telemetry.budget(self.zoho)
        self.telemetry.tokens(self.zoho, self.servicenow)

    # -- the full run ---------------------------------------------------------------------------------------
    async def full_run(self) -> None:
        await self.resend_pending()
        masters = await self.align_masters()
        await self.stage_suppliers(masters)
        with session_scope(self.db) as session:
            self.index = load_mapping_index(session, self.context, masters)
        await self.stage_bills()
        await self.stage_payments()

    async def resend_pending(self) -> None:
        """Resend the rows a crashed run committed as pending (coalescing makes it safe)."""
        with session_scope(self.db) as session:
            query = select(AuditRecord).where(
                AuditRecord.profile_id == self.profile_id, AuditRecord.status == AuditStatus.PENDING
            )
            pending = sorted(session.exec(query).all(), key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.id or 0))
        if not pending:
            return
        self.telemetry.log("info", f"resending {len(pending)} record(s) left pending by an interrupted run")
        entries = [resend_entry(record) for record in pending]
        for start in range(0, len(entries), self.runner.batch_size):
            self.checkpoint()
            await self.write(entries[start : start + self.runner.batch_size])

    async def write(self, entries: Sequence[AuditEntry]) -> list[Completion]:
        completions = await write_batch(
            entries, self.writer, self.servicenow, self.telemetry, self.counters, self.run_id
        )
        self._record_suppliers(completions)
        return completions

    def _record_suppliers(self, completions: Sequence[Completion]) -> None:
        created = [
            c
            for c in completions
            if c.ticket.entry.kind == RecordKind.SUPPLIER and c.status == AuditStatus.STAGED
        ]
        if not created:
            return
        with session_scope(self.db) as session:
            for done in created:
                row = session.exec(
                    select(SupplierMap).where(
                        SupplierMap.profile_id == self.profile_id,
                        SupplierMap.zoho_vendor_id == done.ticket.entry.zoho_id,
                    )
                ).first()
                if row is None:
                    continue
                row.status = MappingStatus.STAGED
                row.sn_supplier_code = done.ticket.entry.rows[0].values.get("u_erp_supplier_code")
                row.sn_sys_id = done.sn_sys_id or row.sn_sys_id
                row.sn_name = row.zoho_name
                row.updated_at = self.clock.now()
                session.add(row)

    async def align_masters(self) -> ServiceNowMasters:
        self.stage_started("cost_centers")
        masters = await fetch_servicenow_masters(self.servicenow)
        dimension = await fetch_cost_center_dimension(self.zoho, self.context)
        with session_scope(self.db) as session:
            counts = align_cost_centers(
                session, self.profile_id, dimension, masters.cost_centers, self.clock.now()
            )
        self.stage_finished("cost_centers", counts.matched + counts.manual, counts.missing, 0)
        self.checkpoint()
        self.stage_started("gl_accounts")
        accounts = [a for a in await self.zoho.list_accounts() if isinstance(a, ZohoAccount)]
        with session_scope(self.db) as session:
            counts = align_gl_accounts(
                session, self.profile_id, accounts, masters.gl_accounts, self.clock.now()
            )
        self.stage_finished("gl_accounts", counts.matched + counts.manual, counts.missing, 0)
        self.checkpoint()
        return masters

    async def stage_suppliers(self, masters: ServiceNowMasters) -> None:
        self.stage_started("suppliers")
        vendors, errors = await fetch_vendors(self.zoho)
        with session_scope(self.db) as session:
            counts = align_suppliers(
                session,
                self.profile_id,
                vendors,
                masters.suppliers,
                self.clock.now(),
                allow_create=self.context.allow_supplier_create,
            )
        for error in errors:
            self.telemetry.log("warning", f"unreadable vendor {error.record_id}: {error.reason}")
        before = Counters(**{k: getattr(self.counters, k) for k in ("staged", "failed", "skipped")})
        unreadable = [self._vendor_error(error) for error in errors]
        known = self.known_audits(RecordKind.SUPPLIER, [e.zoho_id for e in unreadable])
        to_create = [
            AuditEntry(
                kind=RecordKind.SUPPLIER,
                zoho_id=v.contact_id,
                external_key=colnames.supplier_code(self.context.organization_id, v.contact_id),
                zoho_number=v.contact_name,
                vendor_name=v.contact_name,
                source_payload=v.model_dump_json(),
                rows=supplier_rows(v, self.context),
                zoho_modified=modified_marker(None, v.last_modified_time),
            )
            for v in counts.to_create
        ]
        entries = self.new_errors(unreadable, known) + to_create
        for start in range(0, len(entries), self.runner.batch_size):
            await self.write(entries[start : start + self.runner.batch_size])
        self.stage_finished(
            "suppliers",
            counts.matched + counts.manual + self.counters.staged - before.staged,
            counts.missing - len(to_create) + self.counters.failed - before.failed,
            0,
        )
        self.checkpoint()

    def _vendor_error(self, error: RecordError) -> AuditEntry:
        """A failed supplier entry for a vendor contact Zoho sent that could not be read."""
        raw = error.raw or {}
        zoho_id = (
            error.record_id
            or "unreadable-"
            + hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
        )
        name, modified = raw.get("contact_name"), raw.get("last_modified_time")
        return AuditEntry(
            kind=RecordKind.SUPPLIER,
            zoho_id=zoho_id,
            external_key=colnames.supplier_code(self.context.organization_id, zoho_id),
            status=AuditStatus.FAILED,
            zoho_number=name if isinstance(name, str) and name else None,
            vendor_name=name if isinstance(name, str) and name else None,
            zoho_modified=modified if isinstance(modified, str) and modified else None,
            source_payload=json.dumps(raw, default=str),
            error_code=ErrorCode.MALFORMED_RECORD.value,
            error_message=f"Zoho sent an unreadable vendor contact: {error.reason}",
        )

    # -- bills ----------------------------------------------------------------------------------------------
    def _sweep_due(self) -> bool:
        if self.mode == "full":
            return True
        with session_scope(self.db) as session:
            row = cursors.read_cursor(session, self.profile_id, cursors.BILLS)
        if row is None or row.cursor_value is None:
            return True
        last = row.last_full_sweep_at
        return last is None or last < self.clock.now() - timedelta(
            hours=max(1, self.context.full_sweep_hours)
        )

    async def stage_bills(self) -> None:
        full_sweep = self._sweep_due()
        with session_scope(self.db) as session:
            row = cursors.read_cursor(session, self.profile_id, cursors.BILLS)
        since = (
            None
            if full_sweep
            else cursors.window_start(row.cursor_value if row else None, self.context.overlap_seconds)
        )
        tracker = cursors.CursorTracker(cap=self.started, time_zone=self.context.time_zone)
        seen: set[str] = set()
        unreadable_without_id = False
        self.stage_started("bills")
        before = _snapshot(self.counters)
        done = 0
        batch: list[ZohoBillSummary] = []
        errors: list[AuditEntry] = []
        try:
            async for item in self.zoho.iter_bills(modified_since=since):
                if isinstance(item, RecordError):
                    unreadable_without_id |= item.record_id is None
                    if item.record_id:
                        seen.add(item.record_id)
                    errors.append(error_entry(RecordKind.BILL, item, self.context))
                    continue
                seen.add(item.bill_id)
                tracker.observe(item.last_modified_time_raw, item.last_modified_time)
                batch.append(item)
                if len(batch) >= self.runner.batch_size:
                    done += len(batch)
                    await self.bill_batch(batch, errors)
                    batch, errors = [], []
                    self.progress("bills", done)
            done += len(batch)
            await self.bill_batch(batch, errors)
            await self.drain_writes()
        except BaseException:
            await self.abandon_writes()
            raise
        self.progress("bills", done)
        if full_sweep:
            if unreadable_without_id:
                self.telemetry.log("warning", "deletion check skipped: Zoho sent bills without an id")
            else:
                await self.cancel_deleted(seen)
        with session_scope(self.db) as session:
            cursors.save_cursor(
                session,
                self.profile_id,
                cursors.BILLS,
                tracker.value(),
                self.clock.now(),
                full_sweep=full_sweep and not unreadable_without_id,
            )
        self.stage_finished_since("bills", before)

    def new_errors(
        self, errors: list[AuditEntry], known: dict[str, tuple[str, str | None]]
    ) -> list[AuditEntry]:
        """Unreadable records not already failed for the same modified time (those count as unchanged)."""
        fresh = []
        for entry in errors:
            previous = known.get(entry.zoho_id)
            if (
                previous
                and previous[0] == AuditStatus.FAILED
                and entry.zoho_modified
                and (previous[1] == entry.zoho_modified)
            ):
                self.counters.unchanged += 1
            else:
                fresh.append(entry)
        return fresh

    async def bill_batch(self, summaries: list[ZohoBillSummary], errors: list[AuditEntry]) -> None:
        """Read, fetch and map this batch while earlier batches' writes are still in flight, then start this
        batch's write once fewer than `writes_in_flight` are. Batches hold distinct bills, so their writes
        are independent; a bill repeated across pages waits for every earlier write to end first."""
        ids = {s.bill_id for s in summaries} | {e.zoho_id for e in errors}
        if any(ids & writing for _task, writing in self._writes):
            await self.drain_writes()  # a bill repeated across pages must see its earlier outcome first
        self.checkpoint()
        known = self.known_audits(
            RecordKind.BILL, [s.bill_id for s in summaries] + [e.zoho_id for e in errors]
        )
        entries = self.new_errors(errors, known)
        to_fetch: list[ZohoBillSummary] = []
        for summary in summaries:
            marker = modified_marker(summary.last_modified_time_raw, summary.last_modified_time)
            previous = known.get(summary.bill_id)
            if previous and previous[1] == marker and previous[0] in _DONE and marker:
                self.counters.unchanged += 1
            elif summary.status == "void":
                entries.append(
                    self.cancellation(
                        summary.bill_id,
                        summary.bill_number,
                        marker,
                        previous,
                        summary.model_dump_json(),
                        "voided in Zoho Books",
                    )
                )
            else:
                to_fetch.append(summary)
        for summary, detail in zip(to_fetch, await self.fetch_details(to_fetch), strict=True):
            marker = modified_marker(summary.last_modified_time_raw, summary.last_modified_time)
            ref = BillRef(
                summary.bill_id, summary.bill_number, summary.vendor_name, summary.model_dump_json()
            )
            entries.append(self.bill_entry(ref, detail, marker, known.get(summary.bill_id)))
        while len(self._writes) >= self.runner.writes_in_flight:
            task, _ids = self._writes.pop(0)
            await task  # the oldest write's error, if any, is raised here
        self._writes.append((asyncio.ensure_future(self.write(entries)), ids))

    async def drain_writes(self) -> None:
        """Wait for every batch write in flight, oldest first (the first error is raised here)."""
        while self._writes:
            task, _ids = self._writes.pop(0)
            await task

    async def abandon_writes(self) -> None:
        """On the way out with an error: let the writes in flight end (their rows are then final or pending,
        never half-written); the error already being raised wins over theirs."""
        tasks, self._writes = [task for task, _ids in self._writes], []
        if tasks:
            await asyncio.wait(tasks)
            for task in tasks:
                if not task.cancelled():
                    task.exception()

    async def fetch_details(self, summaries: list[ZohoBillSummary]) -> list[ZohoBill | RecordError | None]:
        """Each bill's detail: None when deleted, a RecordError when Zoho cannot serve that one bill.

        A bill Zoho keeps failing on after the client's retries (e.g. an HTTP 500 for that record only)
        fails alone, with the reason, and the run goes on; replay fetches it again. When every detail of
        a batch fails the same way, the trouble is Zoho's, not the records': the run stops with the error.
        Rate limits, transport failures and authorisation errors always stop the run (not the record).
        """
        semaphore = asyncio.Semaphore(self.runner.detail_concurrency)
        failures: list[ZohoApiError] = []

        async def one(bill_id: str) -> ZohoBill | RecordError | None:
            async with semaphore:
                try:
                    return await self.zoho.get_bill(bill_id)
                except ZohoNotFound:
                    return None
                except ZohoRateLimited:
                    raise
                except ZohoApiError as exc:
                    failures.append(exc)
                    return SourceUnavailable(
                        entity="bill",
                        record_id=bill_id,
                        reason=f"Zoho Books kept failing to serve this bill ({exc}); replay it to try again",
                    )

        details = list(await asyncio.gather(*(one(s.bill_id) for s in summaries)))
        if failures and len(failures) == len(summaries) and len(summaries) >= SYSTEMIC_FAILURE_BATCH:
            raise failures[0]
        return details

    def bill_entry(
        self,
        summary: BillRef,
        detail: ZohoBill | RecordError | None,
        marker: str | None,
        previous: tuple[str, str | None] | None,
    ) -> AuditEntry:
        """The audit entry of a fetched bill (None: deleted, a RecordError: unreadable)."""
        if detail is None:
            return self.cancellation(
                summary.bill_id,
                summary.bill_number,
                marker,
                previous,
                summary.source,
                "deleted in Zoho Books",
            )
        if isinstance(detail, RecordError):
            unavailable = isinstance(detail, SourceUnavailable)
            code = ErrorCode.SOURCE_UNAVAILABLE if unavailable else ErrorCode.MALFORMED_RECORD
            entry = error_entry(RecordKind.BILL, detail, self.context, code)
            entry.zoho_id, entry.zoho_modified = summary.bill_id, marker
            entry.zoho_number, entry.vendor_name = summary.bill_number, summary.vendor_name
            entry.external_key = colnames.invoice_key(self.context.organization_id, summary.bill_id)
            return entry
        return invoice_entry(detail, self.context, self.index, marker)

    def cancellation(
        self,
        bill_id: str,
        number: str | None,
        marker: str | None,
        previous: tuple[str, str | None] | None,
        source: str,
        why: str,
    ) -> AuditEntry:
        key = colnames.invoice_key(self.context.organization_id, bill_id)
        entry = AuditEntry(
            kind=RecordKind.BILL,
            zoho_id=bill_id,
            external_key=key,
            zoho_number=number,
            zoho_modified=marker,
            source_payload=source,
        )
        staged = (AuditStatus.STAGED, AuditStatus.PENDING, AuditStatus.CANCELLED)
        header = (
            staged_header(self.db, self.profile_id, bill_id) if previous and previous[0] in staged else None
        )
        if header is None:
            entry.status, entry.error_message = AuditStatus.SKIPPED, f"{why}; never staged, nothing to cancel"
            return entry
        entry.rows, entry.success_status = cancellation_rows(header, key), AuditStatus.CANCELLED
        entry.extra = {"reason": why}
        return entry

    async def cancel_deleted(self, seen: set[str]) -> None:
        with session_scope(self.db) as session:
            query = select(AuditRecord.zoho_id, AuditRecord.zoho_number).where(
                AuditRecord.profile_id == self.profile_id,
                AuditRecord.kind == RecordKind.BILL,
                AuditRecord.status == AuditStatus.STAGED,
            )
            gone = [(zoho_id, number) for zoho_id, number in session.exec(query) if zoho_id not in seen]
        entries = [
            self.cancellation(
                zoho_id, number, None, (AuditStatus.STAGED, None), "{}", "deleted in Zoho Books"
            )
            for zoho_id, number in gone
        ]
        for start in range(0, len(entries), self.runner.batch_size):
            self.checkpoint()
            await self.write(entries[start : start + self.runner.batch_size])

    def known_audits(self, kind: str, ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """(status, zoho_modified) of the audit rows of `ids`."""
        return known_audits(self.db, self.profile_id, kind, ids)

    # -- payments -------------------------------------------------------------------------------------------
    async def stage_payments(self) -> None:
        with session_scope(self.db) as session:
            row = cursors.read_cursor(session, self.profile_id, cursors.PAYMENTS)
        since = (
            None
            if self.mode == "full"
            else cursors.window_start(row.cursor_value if row else None, self.context.overlap_seconds)
        )
        tracker = cursors.CursorTracker(cap=self.started, time_zone=self.context.time_zone)
        self.stage_started("payments")
        before = _snapshot(self.counters)
        batch: list[ZohoVendorPayment] = []
        errors: list[AuditEntry] = []
        done = 0
        async for item in self.zoho.iter_vendor_payments(modified_since=since):
            if isinstance(item, RecordError):
                errors.append(error_entry(RecordKind.PAYMENT, item, self.context))
                continue
            tracker.observe(item.last_modified_time_raw, item.last_modified_time or item.created_time)
            batch.append(item)
            if len(batch) >= self.runner.batch_size:
                done += len(batch)
                await self.payment_batch(batch, errors)
                batch, errors = [], []
                self.progress("payments", done)
        done += len(batch)
        await self.payment_batch(batch, errors)
        self.progress("payments", done)
        with session_scope(self.db) as session:
            cursors.save_cursor(session, self.profile_id, cursors.PAYMENTS, tracker.value(), self.clock.now())
        self.stage_finished_since("payments", before)

    async def payment_batch(self, payments: list[ZohoVendorPayment], errors: list[AuditEntry]) -> None:
        self.checkpoint()
        ids = [p.payment_id for p in payments] + [e.zoho_id for e in errors]
        known = self.known_audits(RecordKind.PAYMENT, ids)
        entries = self.new_errors(errors, known)
        to_fetch: list[tuple[ZohoVendorPayment, str | None]] = []
        for payment in payments:
            marker = modified_marker(
                payment.last_modified_time_raw, payment.last_modified_time or payment.created_time
            )
            previous = known.get(payment.payment_id)
            if previous and previous[1] == marker and previous[0] in _DONE and marker:
                self.counters.unchanged += 1
            else:
                to_fetch.append((payment, marker))
        semaphore = asyncio.Semaphore(self.runner.detail_concurrency)

        async def one(payment_id: str) -> ZohoVendorPayment | RecordError | None:
            async with semaphore:
                try:
                    return await self.zoho.get_vendor_payment(payment_id)
                except ZohoNotFound:
                    return None

        details = await asyncio.gather(*(one(p.payment_id) for p, _ in to_fetch))
        bill_ids = {a.bill_id for d in details if isinstance(d, ZohoVendorPayment) for a in d.bills}
        staged = self.staged_bills(bill_ids)
        for (summary, marker), detail in zip(to_fetch, details, strict=True):
            if detail is None:
                continue  # deleted between the list and the detail: the next run no longer sees it
            if isinstance(detail, RecordError):
                entry = error_entry(RecordKind.PAYMENT, detail, self.context)
                entry.zoho_id, entry.zoho_modified = summary.payment_id, marker
                entries.append(entry)
                continue
            entries.append(payment_entry(detail, self.context, self.index, staged, marker))
        await self.write(entries)

    def staged_bills(self, bill_ids: set[str]) -> set[str]:
        return {
            zoho_id
            for zoho_id, (status, _m) in self.known_audits(RecordKind.BILL, sorted(bill_ids)).items()
            if status == AuditStatus.STAGED
        }

    # -- webhook --------------------------------------------------------------------------------------------
    async def webhook_bill(self, payload: dict[str, Any], event_type: str) -> None:
        with session_scope(self.db) as session:
            self.index = load_mapping_index(session, self.context, None)
        raw = payload.get("bill") if isinstance(payload.get("bill"), dict) else payload
        assert isinstance(raw, dict)
        bill_id = str(raw.get("bill_id") or "")
        if not bill_id:
            raise ValueError("the webhook payload carries no bill_id")
        marker = str(raw.get("last_modified_time") or "") or None
        previous = self.known_audits(RecordKind.BILL, [bill_id]).get(bill_id)
        event = event_type.casefold()
        number = str(raw.get("bill_number") or "") or None
        if event.endswith(("deleted", "voided")) or str(raw.get("status", "")).casefold() == "void":
            why = "deleted in Zoho Books" if event.endswith("deleted") else "voided in Zoho Books"
            await self.write(
                [self.cancellation(bill_id, number, marker, previous, json.dumps(raw, default=str), why)]
            )
            return
        if previous and marker and previous[1] == marker and previous[0] in _DONE:
            self.counters.unchanged += 1
            return
        detail: ZohoBill | RecordError | None
        if isinstance(raw.get("line_items"), list) and raw["line_items"]:
            try:
                detail = ZohoBill.model_validate({**raw, "last_modified_time_raw": marker})
            except ValueError as exc:
                detail = RecordError(entity="bill", record_id=bill_id, reason=str(exc), raw=raw)
        else:
            try:
                detail = await self.zoho.get_bill(bill_id)
            except ZohoNotFound:
                detail = None
        ref = BillRef(bill_id, number, raw.get("vendor_name"), json.dumps(raw, default=str))
        await self.write([self.bill_entry(ref, detail, marker, previous)])

    # -- events ---------------------------------------------------------------------------------------------
    def stage_started(self, stage: Stage) -> None:
        self.telemetry.emit(StageStarted(run_id=self.run_id, stage=stage, total=None))

    def progress(self, stage: Stage, done: int) -> None:
        self.telemetry.emit(StageProgressed(run_id=self.run_id, stage=stage, done=done, total=None))
        self._beat()

    def stage_finished(self, stage: Stage, staged: int, failed: int, skipped: int) -> None:
        self.telemetry.emit(
            StageFinished(run_id=self.run_id, stage=stage, staged=staged, failed=failed, skipped=skipped)
        )

    def stage_finished_since(self, stage: Stage, before: Counters) -> None:
        self.stage_finished(
            stage,
            self.counters.staged - before.staged,
            self.counters.failed - before.failed,
            self.counters.skipped - before.skipped,
        )


def _outcome_text(status: str, message: str | None) -> str:
    return f"{status}: {message}" if message else status


def _snapshot(counters: Counters) -> Counters:
    return Counters(staged=counters.staged, failed=counters.failed, skipped=counters.skipped)
