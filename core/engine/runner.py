"""Runs of a profile: a sync run (masters aligned, then suppliers, bills and payments staged exactly once)
and the one-bill run of a webhook, each a `RunSession` driving the stages of `stages/`.

Order of a sync run: the ServiceNow pre-flight (a blocked instance ends the run before anything is staged);
rows left pending by an interrupted run are resent; cost centers and GL accounts (mapping tables refreshed
from both sides); suppliers; bills (read incrementally: cursor minus the overlap window, no detail request
for a bill the audit log already holds at its modified time; a full sweep also flags the bills gone from
Zoho); payments; then the staged invoices are followed in ServiceNow (statuses, and posting as the ERP).
Cursors advance only when their entity finished. A status refresh on demand is a run of its own (`refresh`).
See `core/engine/__init__.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db.models import SyncProfile
from zbsn.core.engine import lock
from zbsn.core.engine.collector import fewer_collections
from zbsn.core.engine.events import EventSink
from zbsn.core.engine.ports import ServiceNowTarget, ZohoSource
from zbsn.core.engine.run_context import load_profile
from zbsn.core.engine.run_outcome import RunSummary
from zbsn.core.engine.session import RunOptions, RunSession
from zbsn.core.engine.stages.attachments import attach_documents
from zbsn.core.engine.stages.bills import stage_bills
from zbsn.core.engine.stages.masters import align_masters
from zbsn.core.engine.stages.payments import stage_payments
from zbsn.core.engine.stages.pending import resend_pending
from zbsn.core.engine.stages.preflight import check_instance
from zbsn.core.engine.stages.statuses import refresh_statuses
from zbsn.core.engine.stages.suppliers import stage_suppliers
from zbsn.core.engine.stages.vendor_credits import stage_vendor_credits
from zbsn.core.engine.stages.webhook import webhook_bill
from zbsn.core.engine.stages.webhook_payment import webhook_payment
from zbsn.core.engine.telemetry import Telemetry

__all__ = ["RunSummary", "ServiceNowFactory", "SyncRunner", "ZohoFactory", "close_client", "open_client"]

T = TypeVar("T")
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ZohoFactory = Callable[[SyncProfile], ZohoSource | Awaitable[ZohoSource]]
ServiceNowFactory = Callable[[SyncProfile], ServiceNowTarget | Awaitable[ServiceNowTarget]]
Body = Callable[[RunSession], Awaitable[None]]


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


async def sync_run(run: RunSession) -> None:
    """The body of a sync run, stage by stage (see the module docstring)."""
    await check_instance(run)
    await resend_pending(run)
    masters = await align_masters(run)
    await stage_suppliers(run, masters)
    run.load_mappings(masters)
    await stage_bills(run)
    await attach_documents(run)
    await stage_payments(run)
    await stage_vendor_credits(run)
    await refresh_statuses(run)


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
        attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES,
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
        if attachment_max_bytes < 0:
            raise ValueError("attachment_max_bytes must not be negative")
        self.attachment_max_bytes = attachment_max_bytes  # a bill's document over this fails its attachment

    def options(self) -> RunOptions:
        """The pacing every session of this runner gets."""
        return RunOptions(
            batch_size=self.batch_size,
            detail_concurrency=self.detail_concurrency,
            writes_in_flight=self.writes_in_flight,
            stale_after_s=self.stale_after_s,
            heartbeat_s=self.heartbeat_s,
            attachment_max_bytes=self.attachment_max_bytes,
        )

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
        return await self.session(profile_id, mode, trigger, events, cancel, sync_run)

    async def process_webhook_bill(
        self, profile_id: int, bill_payload: dict[str, Any], event_type: str, events: EventSink | None = None
    ) -> RunSummary:
        """Stage the bill a Zoho webhook carried (no Zoho request when complete); void/delete cancels."""

        async def body(run: RunSession) -> None:
            await check_instance(run)
            await webhook_bill(run, bill_payload, event_type)
            await attach_documents(run)

        return await self.session(profile_id, "webhook", "webhook", events, None, body)

    async def process_webhook_payment(
        self,
        profile_id: int,
        payment_payload: dict[str, Any],
        event_type: str,
        events: EventSink | None = None,
    ) -> RunSummary:
        """Stage the vendor payment a Zoho webhook carried (a deleted one is flagged)."""

        async def body(run: RunSession) -> None:
            await check_instance(run)
            await webhook_payment(run, payment_payload, event_type)

        return await self.session(profile_id, "webhook", "webhook", events, None, body)

    async def refresh(
        self, profile_id: int, events: EventSink | None = None, cancel: asyncio.Event | None = None
    ) -> RunSummary:
        """Follow the profile's staged invoices in ServiceNow now (a run of mode "refresh"; it stages
        nothing, and posts approved invoices as the ERP when the profile says so)."""
        return await self.session(profile_id, "refresh", "manual", events, cancel, refresh_statuses)

    async def session(
        self,
        profile_id: int,
        mode: str,
        trigger: str,
        events: EventSink | None,
        cancel: asyncio.Event | None,
        body: Body,
    ) -> RunSummary:
        """Open both clients, take the profile's lock as a new run, run `body`, record the outcome."""
        profile, _connection = load_profile(self.db, profile_id)
        zoho = await open_client(self.zoho_factory, profile)
        servicenow = await open_client(self.servicenow_factory, profile)
        try:
            run = RunSession(
                self.db,
                self.clock,
                self.options(),
                profile,
                (zoho, servicenow),
                mode,
                trigger,
                Telemetry(events),
                cancel,
            )
            with fewer_collections():
                return await run.execute(body)
        finally:
            await close_client(zoho)
            await close_client(servicenow)
