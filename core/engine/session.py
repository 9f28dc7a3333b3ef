"""One run of one profile: its lock lease and heartbeat, audit writer, counters, events and recorded outcome.

`RunSession.execute(body)` takes the profile's lock as a new SyncRun, resolves the run's context, runs
`body(session)` and records how it ended (a re-authorisation, a cancel, a lost lock or any error ends the
run cleanly with the reason; what was sent stays final or pending). The stages (`stages/*`) and replay work
only through the public methods: `write`, `checkpoint`, the stage events, `history`, `load_mappings` /
`refresh_mappings`, and the run's options, context and clients.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from zbsn.core.clock import Clock
from zbsn.core.db.models import SyncProfile, SyncRun
from zbsn.core.db.transient import transaction
from zbsn.core.domain import AuditStatus, RunStatus
from zbsn.core.engine import lock
from zbsn.core.engine.alignment import refresh_mappings
from zbsn.core.engine.attachment_queue import AttachmentQueue
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion
from zbsn.core.engine.events import (
    RecordFailed,
    RunFinished,
    RunStarted,
    Stage,
    StageFinished,
    StageProgressed,
    StageStarted,
)
from zbsn.core.engine.history import History
from zbsn.core.engine.mapping_index import MappingIndex, load_mapping_index
from zbsn.core.engine.masters import ServiceNowMasters, record_created_suppliers
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.engine.run_context import resolve_context
from zbsn.core.engine.run_message import failure_message, log_failure
from zbsn.core.engine.run_outcome import RunSummary, record_outcome, unrecorded_message
from zbsn.core.engine.staging_batch import write_batch
from zbsn.core.engine.telemetry import Counters, Telemetry
from zbsn.core.servicenow.errors import ServiceNowReauthorize
from zbsn.core.zoho.errors import ZohoReauthorize


class RunCancelled(Exception):
    """The operator cancelled the run (between batches)."""


class LockLost(Exception):
    """Another run took this run's lock (its heartbeat was judged stale)."""


class RunRefused(Exception):
    """The run cannot start its work (e.g. the ServiceNow pre-flight found something missing); the message is
    the one line the run records."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a run paces itself (see `SyncRunner` for what each is for)."""

    batch_size: int
    detail_concurrency: int
    writes_in_flight: int
    stale_after_s: float
    heartbeat_s: float
    attachment_max_bytes: int = 10 * 1024 * 1024  # a bill's document over this fails its attachment


class RunSession:
    """The state of one run: clients, lock lease, audit writer, counters, mapping index."""

    def __init__(
        self,
        db: sa.Engine,
        clock: Clock,
        options: RunOptions,
        profile: SyncProfile,
        clients: tuple[ZohoSource, ServiceNowTarget],
        mode: str,
        trigger: str,
        telemetry: Telemetry,
        cancel: asyncio.Event | None = None,
    ) -> None:
        assert profile.id is not None
        self.db, self.clock, self.options = db, clock, options
        self.profile, self.profile_id = profile, profile.id
        self.zoho, self.servicenow = clients
        self.mode, self.trigger, self.telemetry, self.cancel = mode, trigger, telemetry, cancel
        self.history = History(db, profile.id)
        self.counters = Counters()
        self.attachments = AttachmentQueue()  # documents of the bills this run staged (stages/attachments)
        self.started = clock.now()
        self.run_id = 0
        self.context: RunContext  # resolved by `execute`
        # set by the pre-flight when the instance cannot stage FX rates: only foreign-currency bills fail
        self.fx_staging_problem: str | None = None
        self.index: MappingIndex  # by `load_mappings` or `refresh_mappings`
        self._writer: AuditWriter
        self._lease: lock.Lease | None = None
        self._lock_lost = False
        self._zoho_base = self.zoho.request_count
        self._sn_base = self.servicenow.request_count

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def execute(self, body: Callable[[RunSession], Awaitable[None]]) -> RunSummary:
        """Take the lock as a new run, run `body`, record and return the outcome (module docstring)."""
        run = SyncRun(
            profile_id=self.profile_id,
            trigger=self.trigger,
            mode=self.mode,
            started_at=self.started,
            heartbeat_at=self.started,
        )
        self._lease = lock.acquire(self.db, self.profile_id, run, self.started, self.options.stale_after_s)
        self.run_id = self._lease.run_id
        self.telemetry.emit(
            RunStarted(run_id=self.run_id, profile_id=self.profile_id, mode=self.mode, trigger=self.trigger)
        )
        if self._lease.taken_over_run is not None:
            self.log("warning", f"run {self._lease.taken_over_run} was interrupted; resuming its work")
        beat = asyncio.create_task(self._heartbeat())
        status, message = RunStatus.FAILED, None
        try:
            self.context = await resolve_context(self.db, self.profile_id, self.zoho)
            self._writer = AuditWriter(self.db, self.profile_id, self.run_id, self.clock)
            self.telemetry.tokens(self.zoho, self.servicenow)
            await body(self)
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
        except RunRefused as exc:
            status, message = RunStatus.FAILED, str(exc)
        except LockLost:
            status, message = RunStatus.INTERRUPTED, "another run took over this profile's lock"
        except Exception as exc:  # the run is recorded as failed with the reason; nothing sent is lost
            status, message = RunStatus.FAILED, failure_message(exc)
            log_failure(exc, f"run {self.run_id} of profile {self.profile_id} failed")
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        if message:
            self.log("error" if status == RunStatus.FAILED else "warning", message)
        return self._finish(status, message)

    def _finish(self, status: str, message: str | None) -> RunSummary:
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
            flagged=self.counters.flagged,
            zoho_requests=self.zoho.request_count - self._zoho_base,
            servicenow_requests=self.servicenow.request_count - self._sn_base,
            message=message,
            total_amount=str(self.counters.total_amount),
            servicenow_statuses=dict(self.counters.servicenow_statuses),
        )
        try:
            record_outcome(self.db, summary, self.clock.now())
        except DBAPIError as exc:  # the database is still unreachable: end cleanly, say so
            log_failure(exc, f"run {self.run_id}: its outcome could not be recorded")
            message = summary.message = unrecorded_message(type(exc.orig or exc).__name__, status, message)
            status = summary.status = RunStatus.FAILED
            self.log("error", message)
        if self._lease is not None:
            lock.release(self.db, self._lease, (status, message or status))
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

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat_s)
            try:
                self._beat()
            except DBAPIError as exc:  # a missed beat: the run itself meets the outage at its next write
                self.log("warning", f"heartbeat not recorded: database unreachable ({exc.orig})")

    def _beat(self) -> None:
        if self._lease is not None and not lock.heartbeat(self.db, self._lease, self.clock.now()):
            self._lock_lost = True

    def checkpoint(self) -> None:
        """Between batches: stop when cancelled or when the lock was lost; publish the gauges."""
        if self._lock_lost:
            raise LockLost()
        if self.cancel is not None and self.cancel.is_set():
            raise RunCancelled()
        self.telemetry.budget(self.zoho)
        self.telemetry.tokens(self.zoho, self.servicenow)

    # -- mappings and writes --------------------------------------------------------------------------------
    def load_mappings(self, masters: ServiceNowMasters | None) -> None:
        """Read the mapping tables as they stand (legal entity and currencies from `masters` if given)."""
        self.index = transaction(self.db, lambda session: load_mapping_index(session, self.context, masters))
        self.index.fx_staging_problem = self.fx_staging_problem

    async def refresh_mappings(self) -> None:
        """Re-read both systems' masters, re-match the auto mappings and use the result (as replay does)."""
        _masters, self.index = await refresh_mappings(
            self.db, self.context, self.zoho, self.servicenow, self.clock
        )
        self.index.fx_staging_problem = self.fx_staging_problem

    async def write(self, entries: Sequence[AuditEntry]) -> list[Completion]:
        """One exactly-once write of a batch (`staging_batch.write_batch`); new suppliers noted as staged."""
        completions = await write_batch(
            entries, self._writer, self.servicenow, self.telemetry, self.counters, self.run_id
        )
        record_created_suppliers(self.db, self.profile_id, completions, self.clock.now())
        self.attachments.note(completions)
        return completions

    async def record_outside_staging(
        self, entries: Sequence[AuditEntry], sys_ids: Mapping[str, str] | None = None
    ) -> None:
        """Audit rows for work done without staging rows (a bill's document attached): each entry is final as
        given (staged or failed, with its reason); a staged one records the ServiceNow sys_id `sys_ids` holds
        for its Zoho id. Failures count and are reported as a staging write's are."""
        tickets = await self._writer.begin_async(list(entries))
        found = sys_ids or {}
        await self._writer.finish_async(
            [
                Completion(t, t.entry.status, None, found[t.entry.zoho_id], None, None, None)
                for t in tickets
                if t.entry.status == AuditStatus.STAGED and t.entry.zoho_id in found
            ]
        )
        for entry in entries:
            if entry.status == AuditStatus.STAGED:
                self.counters.attachments += 1
            elif entry.status == AuditStatus.FAILED:
                self.counters.failed += 1
                self.telemetry.emit(
                    RecordFailed(
                        run_id=self.run_id,
                        kind=entry.kind,
                        zoho_id=entry.zoho_id,
                        number=entry.zoho_number,
                        error_code=entry.error_code or "",
                        message=entry.error_message or "",
                    )
                )

    async def write_in_batches(self, entries: Sequence[AuditEntry]) -> None:
        """Write entries a batch at a time, checking for a cancel or a lost lock before each batch."""
        size = self.options.batch_size
        for start in range(0, len(entries), size):
            self.checkpoint()
            await self.write(entries[start : start + size])

    # -- events ---------------------------------------------------------------------------------------------
    def log(self, level: str, text: str) -> None:
        """A line in the run's event log ("info" | "warning" | "error")."""
        self.telemetry.log(level, text)

    def stage_started(self, stage: Stage) -> None:
        self.telemetry.emit(StageStarted(run_id=self.run_id, stage=stage, total=None))

    def progress(self, stage: Stage, done: int) -> None:
        """Records done so far in a stage; also beats the lock's heartbeat."""
        self.telemetry.emit(StageProgressed(run_id=self.run_id, stage=stage, done=done, total=None))
        self._beat()

    def stage_finished(self, stage: Stage, staged: int, failed: int, skipped: int) -> None:
        self.telemetry.emit(
            StageFinished(run_id=self.run_id, stage=stage, staged=staged, failed=failed, skipped=skipped)
        )

    def snapshot(self) -> Counters:
        """The counters now, for `stage_finished_since`."""
        return Counters(
            staged=self.counters.staged, failed=self.counters.failed, skipped=self.counters.skipped
        )

    def stage_finished_since(self, stage: Stage, before: Counters) -> None:
        """A stage's end, counting what it did since `before` (a `snapshot`)."""
        self.stage_finished(
            stage,
            self.counters.staged - before.staged,
            self.counters.failed - before.failed,
            self.counters.skipped - before.skipped,
        )
