"""The engine's facade: what the TUI, the CLI and `zbsn serve` call (see `core/engine/__init__.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import CostCenterMap, GLAccountMap, SupplierMap
from zbsn.core.domain import MappingStatus
from zbsn.core.engine import masters
from zbsn.core.engine.alignment import refresh_mappings
from zbsn.core.engine.events import EventSink
from zbsn.core.engine.history import History
from zbsn.core.engine.master_scope import in_scope, profile_entity
from zbsn.core.engine.masters import MappingKind
from zbsn.core.engine.matching import (
    COST_CENTER_TARGET,
    GL_ACCOUNT_TARGET,
    SUPPLIER_TARGET,
    find_override_target,
)
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.engine.preview import PreviewReport, build_preview
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.reconcile import ReconciliationReport, reconcile
from zbsn.core.engine.replay import ReplayFilter, replay
from zbsn.core.engine.run_context import load_profile, resolve_context
from zbsn.core.engine.runner import (
    RunSummary,
    ServiceNowFactory,
    SyncRunner,
    ZohoFactory,
    close_client,
    open_client,
)
from zbsn.core.servicenow.models import SNCostCenter, SNGLAccount, SNSupplier

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One mapping as the mapping screen shows it."""

    kind: MappingKind
    zoho_key: str
    zoho_name: str
    zoho_code: str | None
    sn_sys_id: str | None
    sn_value: str | None  # account number / GL number / supplier code
    sn_name: str | None
    origin: str  # auto | manual
    status: str  # matched | missing | staged
    blocked_bills: int  # failed bills held back by this (missing) mapping, from their stored problems


@dataclass(frozen=True, slots=True)
class Mappings:
    """The three mapping tables of a profile."""

    cost_centers: list[MappingRow]
    gl_accounts: list[MappingRow]
    suppliers: list[MappingRow]


class EngineService:
    """Everything the engine does, per profile; clients come from the two factories (called per use)."""

    def __init__(
        self,
        db_engine: sa.Engine,
        zoho_factory: ZohoFactory,
        servicenow_factory: ServiceNowFactory,
        clock: Clock | None = None,
        **runner_options: Any,
    ) -> None:
        self.db = db_engine
        self.clock: Clock = clock or SystemClock()
        self.runner = SyncRunner(db_engine, zoho_factory, servicenow_factory, self.clock, **runner_options)

    async def _with_clients(
        self, profile_id: int, body: Callable[[RunContext, ZohoSource, ServiceNowTarget], Awaitable[T]]
    ) -> T:
        profile, _connection = load_profile(self.db, profile_id)
        zoho = await open_client(self.runner.zoho_factory, profile)
        servicenow = await open_client(self.runner.servicenow_factory, profile)
        try:
            context = await resolve_context(self.db, profile_id, zoho)
            return await body(context, zoho, servicenow)
        finally:
            await close_client(zoho)
            await close_client(servicenow)

    async def preview(
        self, profile_id: int, *, date_start: date | None = None, date_end: date | None = None
    ) -> PreviewReport:
        """Dry run of a period (dates given) or of what changed since the last run; nothing is staged."""

        async def body(context: RunContext, zoho: ZohoSource, servicenow: ServiceNowTarget) -> PreviewReport:
            return await build_preview(
                self.db,
                context,
                zoho,
                servicenow,
                self.clock,
                date_start=date_start,
                date_end=date_end,
                attachment_max_bytes=self.runner.attachment_max_bytes,
            )

        return await self._with_clients(profile_id, body)

    async def run(
        self,
        profile_id: int,
        mode: str = "changed",
        trigger: str = "manual",
        events: EventSink | None = None,
        cancel: asyncio.Event | None = None,
    ) -> RunSummary:
        """A sync run ("changed" | "full"); raises `lock.RunLocked` if the profile is already running."""
        return await self.runner.run(profile_id, mode=mode, trigger=trigger, events=events, cancel=cancel)

    async def process_webhook_bill(
        self, profile_id: int, bill_payload: dict[str, Any], event_type: str, events: EventSink | None = None
    ) -> RunSummary:
        """Stage a webhook's bill (no Zoho request when the payload is complete); void/delete cancels."""
        return await self.runner.process_webhook_bill(profile_id, bill_payload, event_type, events)

    async def process_webhook_payment(
        self,
        profile_id: int,
        payment_payload: dict[str, Any],
        event_type: str,
        events: EventSink | None = None,
    ) -> RunSummary:
        """Stage a webhook's vendor payment (no Zoho request when it holds its bills); a delete is flagged."""
        return await self.runner.process_webhook_payment(profile_id, payment_payload, event_type, events)

    async def replay(
        self,
        profile_id: int,
        audit_ids: list[int] | None = None,
        where: ReplayFilter | None = None,
        events: EventSink | None = None,
        cancel: asyncio.Event | None = None,
    ) -> RunSummary:
        """Replay records (ids, or a filter; default every failed record) with the current mappings."""
        return await replay(self.runner, profile_id, audit_ids, where, events, cancel)

    async def refresh_statuses(
        self, profile_id: int, events: EventSink | None = None, cancel: asyncio.Event | None = None
    ) -> RunSummary:
        """Follow the profile's staged invoices in ServiceNow now: their status, open exceptions and posting,
        in one batched read per 800 invoices (a run of mode "refresh"; raises `lock.RunLocked` while the
        profile runs, whose last stage refreshes them anyway)."""
        return await self.runner.refresh(profile_id, events, cancel)

    async def reconcile(
        self, profile_id: int, date_start: date | None = None, date_end: date | None = None
    ) -> ReconciliationReport:
        """Counts and totals in Zoho vs ServiceNow for a period, and the records that differ."""

        async def body(
            context: RunContext, zoho: ZohoSource, servicenow: ServiceNowTarget
        ) -> ReconciliationReport:
            return await reconcile(self.db, context, zoho, servicenow, date_start, date_end)

        return await self._with_clients(profile_id, body)

    async def refresh_mappings(self, profile_id: int) -> Mappings:
        """Re-read masters on both sides, re-match the auto mappings, return the three tables."""

        async def body(context: RunContext, zoho: ZohoSource, servicenow: ServiceNowTarget) -> None:
            await refresh_mappings(self.db, context, zoho, servicenow, self.clock)

        await self._with_clients(profile_id, body)
        return self.mappings(profile_id)

    def mappings(self, profile_id: int) -> Mappings:
        """The three mapping tables (as stored) with the number of failed bills each missing one blocks.

        A bill counts for a mapping when one of its stored problems has the mapping's code (UNMAPPED_...) and
        names it (its Zoho name): the same (code, subject) pairs as `PreviewReport.blocked_by`.
        """
        with session_scope(self.db) as session:
            ccs = session.exec(select(CostCenterMap).where(CostCenterMap.profile_id == profile_id)).all()
            gls = session.exec(select(GLAccountMap).where(GLAccountMap.profile_id == profile_id)).all()
            sups = session.exec(select(SupplierMap).where(SupplierMap.profile_id == profile_id)).all()
        blocked = History(self.db, profile_id).blocked_bills()

        def count(status: str, code: ErrorCode, zoho_name: str) -> int:
            return blocked.get((code.value, zoho_name), 0) if status == MappingStatus.MISSING else 0

        return Mappings(
            cost_centers=sorted(
                (
                    MappingRow(
                        "cost_center",
                        r.zoho_key,
                        r.zoho_name,
                        None,
                        r.sn_sys_id,
                        r.sn_account_number,
                        r.sn_name,
                        r.origin,
                        r.status,
                        count(r.status, ErrorCode.UNMAPPED_COST_CENTER, r.zoho_name),
                    )
                    for r in ccs
                ),
                key=_missing_first,
            ),
            gl_accounts=sorted(
                (
                    MappingRow(
                        "gl_account",
                        r.zoho_account_id,
                        r.zoho_name,
                        r.zoho_code,
                        r.sn_sys_id,
                        r.sn_number,
                        r.sn_name,
                        r.origin,
                        r.status,
                        count(r.status, ErrorCode.UNMAPPED_GL_ACCOUNT, r.zoho_name),
                    )
                    for r in gls
                ),
                key=_missing_first,
            ),
            suppliers=sorted(
                (
                    MappingRow(
                        "supplier",
                        r.zoho_vendor_id,
                        r.zoho_name,
                        r.tax_id,
                        r.sn_sys_id,
                        r.sn_supplier_code,
                        r.sn_name,
                        r.origin,
                        r.status,
                        count(r.status, ErrorCode.UNMAPPED_SUPPLIER, r.zoho_name),
                    )
                    for r in sups
                ),
                key=_missing_first,
            ),
        )

    async def set_override(
        self, profile_id: int, kind: MappingKind, zoho_key: str, sn_value: str
    ) -> SNCostCenter | SNGLAccount | SNSupplier:
        """Map a Zoho value to a ServiceNow record by hand; auto-matching never overwrites it.

        `sn_value` is what the operator knows: the cost center's account number (or code), the GL account's
        number, the supplier's code (or tax id), the record's exact name, or its sys_id. It is resolved
        against ServiceNow's masters (`matching.find_override_target`); raises `UnknownServiceNowValue` when
        nothing matches and `AmbiguousServiceNowValue` when several records do. Returns the record mapped to.
        """
        with session_scope(self.db) as session:
            masters.find_mapping(session, profile_id, kind, zoho_key)  # KeyError before asking ServiceNow

        async def body(
            context: RunContext, zoho: ZohoSource, servicenow: ServiceNowTarget
        ) -> SNCostCenter | SNGLAccount | SNSupplier:
            target: SNCostCenter | SNGLAccount | SNSupplier
            # cost centers and GL accounts within the profile's legal entity and ERP source (master_scope)
            entity = profile_entity(await servicenow.list_legal_entities(), context.legal_entity)
            if kind == "cost_center":
                cost_centers = in_scope(await servicenow.list_cost_centers(), entity)
                target = find_override_target(sn_value, cost_centers, COST_CENTER_TARGET).record
            elif kind == "gl_account":
                accounts = in_scope(await servicenow.list_gl_accounts(), entity)
                target = find_override_target(sn_value, accounts, GL_ACCOUNT_TARGET).record
            else:
                suppliers = await servicenow.list_suppliers()
                target = find_override_target(sn_value, suppliers, SUPPLIER_TARGET).record
            with session_scope(self.db) as session:
                masters.set_override(session, profile_id, kind, zoho_key, target, self.clock.now())
            return target

        return await self._with_clients(profile_id, body)

    def clear_override(self, profile_id: int, kind: MappingKind, zoho_key: str) -> None:
        """Drop a manual override; the next alignment re-matches the value automatically."""
        with session_scope(self.db) as session:
            masters.clear_override(session, profile_id, kind, zoho_key, self.clock.now())


def _missing_first(row: MappingRow) -> tuple[int, int, str]:
    return (0 if row.status == "missing" else 1, -row.blocked_bills, row.zoho_name.casefold())
