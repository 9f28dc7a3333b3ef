"""The engine's reads of its own history, the audit log: what it knows of records, a bill's invoice in
ServiceNow, what is pending, which records are staged, which to replay, and the problems that hold
bills back. (The console's paged audit queries live in `core/audit_query.py`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import col, func, or_, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditProblem, AuditRecord, ServiceNowStatusRecord
from zbsn.core.db.transient import retried
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.unchanged import Known

_CHUNK = 500
# Pending rows are resent in this order: a bill's invoice needs its supplier, a payment needs its invoice.
_KIND_ORDER: dict[str, int] = {
    RecordKind.SUPPLIER: 0,
    RecordKind.BILL: 1,
    RecordKind.VENDOR_CREDIT: 2,  # its settlements name bills' invoices, as payments do
    RecordKind.PAYMENT: 3,
}


@dataclass(frozen=True, slots=True)
class ReplayFilter:
    """Which audit records to replay when no ids are given (default: every failed record).

    With `servicenow_fixable`, the records whose ServiceNow status says re-staging fixes what holds them are
    replayed too (only they, when `status` is None)."""

    status: str | None = AuditStatus.FAILED
    servicenow_fixable: bool = False
    kind: str | None = None
    run_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class StagedInvoice:
    """What the audit log knows of a bill's invoice in ServiceNow."""

    audit_status: str
    sys_id: str | None  # the invoice's sys_id once its header reached ServiceNow
    sn_status: str | None  # ServiceNowStatus at the last status refresh
    sn_number: str | None  # the invoice's number in ServiceNow (INV...)


@dataclass(frozen=True, slots=True)
class StagedSnapshot:
    """A bill's invoice as zbsn last staged it: the audit status, the mapped payload (its rows), and
    ServiceNow's side (sys_id, status at the last refresh, number)."""

    audit_status: str
    mapped_payload: str | None
    sys_id: str | None
    sn_status: str | None
    sn_number: str | None


# the flags of a bill whose invoice stays in ServiceNow as staged (its payments still pay it)
KEEPS_INVOICE_CODES = ("EDITED_AFTER_APPROVAL", "LINES_REMOVED_IN_ZOHO", "RETURNED_TO_DRAFT_IN_ZOHO")


class History:
    """The audit log of one profile, as the engine reads it."""

    def __init__(self, db: sa.Engine, profile_id: int) -> None:
        self.db = db
        self.profile_id = profile_id

    @retried
    def known(self, kind: str, ids: Iterable[str]) -> dict[str, Known]:
        """Status and change marker of the audit rows of these Zoho ids (those the log holds)."""
        wanted = list(ids)
        found: dict[str, Known] = {}
        with session_scope(self.db) as session:
            for start in range(0, len(wanted), _CHUNK):
                query = select(AuditRecord.zoho_id, AuditRecord.status, AuditRecord.zoho_modified).where(
                    AuditRecord.profile_id == self.profile_id,
                    AuditRecord.kind == kind,
                    col(AuditRecord.zoho_id).in_(wanted[start : start + _CHUNK]),
                )
                for zoho_id, status, modified in session.exec(query):
                    found[zoho_id] = Known(status, modified)
        return found

    @retried
    def staged_invoice(self, bill_id: str) -> StagedInvoice | None:
        """The bill's invoice as the audit log knows it (None: the log holds no record of the bill)."""
        query = (
            select(
                AuditRecord.status,
                AuditRecord.sn_sys_id,
                AuditRecord.sn_status,
                ServiceNowStatusRecord.number,
            )
            .outerjoin(ServiceNowStatusRecord, col(ServiceNowStatusRecord.audit_id) == col(AuditRecord.id))
            .where(
                AuditRecord.profile_id == self.profile_id,
                AuditRecord.kind == RecordKind.BILL,
                AuditRecord.zoho_id == bill_id,
            )
        )
        with session_scope(self.db) as session:
            found = session.exec(query).first()
        return None if found is None else StagedInvoice(*found)

    @retried
    def pending(self) -> list[AuditRecord]:
        """The rows an interrupted run left pending: suppliers first, then bills, then payments."""
        with session_scope(self.db) as session:
            query = select(AuditRecord).where(
                AuditRecord.profile_id == self.profile_id, AuditRecord.status == AuditStatus.PENDING
            )
            rows = session.exec(query).all()
        return sorted(rows, key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.id or 0))

    @retried
    def staged(self, kind: str) -> list[tuple[str, str | None]]:
        """(Zoho id, number) of every record of this kind whose last outcome is staged."""
        with session_scope(self.db) as session:
            query = select(AuditRecord.zoho_id, AuditRecord.zoho_number).where(
                AuditRecord.profile_id == self.profile_id,
                AuditRecord.kind == kind,
                AuditRecord.status == AuditStatus.STAGED,
            )
            return [(zoho_id, number) for zoho_id, number in session.exec(query)]

    @retried
    def with_status(self, kind: str, statuses: Iterable[str]) -> list[tuple[str, str | None, str]]:
        """(Zoho id, number, status) of every record of this kind whose last outcome is one of `statuses`."""
        with session_scope(self.db) as session:
            query = select(AuditRecord.zoho_id, AuditRecord.zoho_number, AuditRecord.status).where(
                AuditRecord.profile_id == self.profile_id,
                AuditRecord.kind == kind,
                col(AuditRecord.status).in_(list(statuses)),
            )
            return [(zoho_id, number, status) for zoho_id, number, status in session.exec(query)]

    @retried
    def kept_invoices(self) -> list[tuple[str, str | None]]:
        """(bill id, number) of the flagged bills whose invoice stays in ServiceNow as staged (edited after
        approval, lines removed, returned to draft): a full sweep checks them for deletion as staged ones."""
        with session_scope(self.db) as session:
            query = select(AuditRecord.zoho_id, AuditRecord.zoho_number).where(
                AuditRecord.profile_id == self.profile_id,
                AuditRecord.kind == RecordKind.BILL,
                AuditRecord.status == AuditStatus.FLAGGED,
                col(AuditRecord.sn_sys_id).is_not(None),
                col(AuditRecord.error_code).in_(KEEPS_INVOICE_CODES),
            )
            return [(zoho_id, number) for zoho_id, number in session.exec(query)]

    @retried
    def staged_bills(self, bill_ids: Iterable[str]) -> set[str]:
        """The ones of these bills whose invoice is in staging (staged, or flagged with its invoice in
        ServiceNow: a bill edited after approval keeps its invoice, which its payments still pay)."""
        wanted = sorted(set(bill_ids))
        found: set[str] = set()
        with session_scope(self.db) as session:
            for start in range(0, len(wanted), _CHUNK):
                query = select(AuditRecord.zoho_id).where(
                    AuditRecord.profile_id == self.profile_id,
                    AuditRecord.kind == RecordKind.BILL,
                    col(AuditRecord.zoho_id).in_(wanted[start : start + _CHUNK]),
                    or_(
                        AuditRecord.status == AuditStatus.STAGED,
                        sa.and_(
                            col(AuditRecord.status) == AuditStatus.FLAGGED,
                            col(AuditRecord.sn_sys_id).is_not(None),
                            col(AuditRecord.error_code).in_(KEEPS_INVOICE_CODES),
                        ),
                    ),
                )
                found.update(session.exec(query))
        return found

    @retried
    def staged_snapshots(self, bill_ids: Iterable[str]) -> dict[str, StagedSnapshot]:
        """bill id -> the rows its invoice was last staged with and where ServiceNow holds it (bills whose
        invoice reached ServiceNow only)."""
        wanted = sorted(set(bill_ids))
        found: dict[str, StagedSnapshot] = {}
        with session_scope(self.db) as session:
            for start in range(0, len(wanted), _CHUNK):
                query = (
                    sa.select(
                        col(AuditRecord.zoho_id),
                        col(AuditRecord.status),
                        col(AuditRecord.mapped_payload),
                        col(AuditRecord.sn_sys_id),
                        col(AuditRecord.sn_status),
                        col(ServiceNowStatusRecord.number),
                    )
                    .outerjoin(
                        ServiceNowStatusRecord, col(ServiceNowStatusRecord.audit_id) == col(AuditRecord.id)
                    )
                    .where(
                        col(AuditRecord.profile_id) == self.profile_id,
                        col(AuditRecord.kind) == RecordKind.BILL,
                        col(AuditRecord.zoho_id).in_(wanted[start : start + _CHUNK]),
                        col(AuditRecord.status).in_([AuditStatus.STAGED, AuditStatus.FLAGGED]),
                    )
                )
                for zoho_id, status, payload, sys_id, sn_status, number in session.execute(query).all():
                    if status == AuditStatus.STAGED or sys_id:
                        found[zoho_id] = StagedSnapshot(status, payload, sys_id, sn_status, number)
        return found

    @retried
    def replay_ids(self, audit_ids: list[int] | None, where: ReplayFilter) -> list[int]:
        """The audit ids to replay: the given ones (of this profile), or those matching the filter."""
        query = select(AuditRecord.id).where(AuditRecord.profile_id == self.profile_id)
        if audit_ids is not None:
            query = query.where(col(AuditRecord.id).in_(audit_ids))
        else:
            fixable = (
                select(ServiceNowStatusRecord.audit_id)
                .where(
                    ServiceNowStatusRecord.profile_id == self.profile_id,
                    col(ServiceNowStatusRecord.replay_fixes).is_(True),
                )
                .scalar_subquery()
            )
            if where.servicenow_fixable and where.status:
                query = query.where(or_(AuditRecord.status == where.status, col(AuditRecord.id).in_(fixable)))
            elif where.servicenow_fixable:
                query = query.where(col(AuditRecord.id).in_(fixable))
            elif where.status:
                query = query.where(AuditRecord.status == where.status)
            if where.kind:
                query = query.where(AuditRecord.kind == where.kind)
            if where.run_id is not None:
                query = query.where(AuditRecord.run_id == where.run_id)
            if where.date_from:
                query = query.where(col(AuditRecord.doc_date) >= where.date_from.isoformat())
            if where.date_to:
                query = query.where(col(AuditRecord.doc_date) <= where.date_to.isoformat())
            if where.text:
                pattern = f"%{where.text}%"
                query = query.where(
                    or_(
                        col(AuditRecord.zoho_number).ilike(pattern),
                        col(AuditRecord.vendor_name).ilike(pattern),
                        col(AuditRecord.error_message).ilike(pattern),
                        col(AuditRecord.zoho_id) == where.text,
                    )
                )
        with session_scope(self.db) as session:
            return [i for i in session.exec(query.order_by(col(AuditRecord.id))) if i is not None]

    @retried
    def records(self, audit_ids: list[int], kind: str) -> list[AuditRecord]:
        """The audit rows of these ids that are of this kind."""
        with session_scope(self.db) as session:
            query = select(AuditRecord).where(col(AuditRecord.id).in_(audit_ids), AuditRecord.kind == kind)
            return list(session.exec(query))

    @retried
    def blocked_bills(self) -> dict[tuple[str, str | None], int]:
        """(problem code, subject) -> how many failed bills that problem holds back (from the stored problems,
        never from message text; the preview's `blocked_by` counts the same pairs)."""
        query = (
            select(AuditProblem.code, AuditProblem.subject, func.count(func.distinct(AuditProblem.audit_id)))
            .join(AuditRecord, col(AuditRecord.id) == col(AuditProblem.audit_id))
            .where(
                AuditRecord.profile_id == self.profile_id,
                AuditRecord.kind == RecordKind.BILL,
                AuditRecord.status == AuditStatus.FAILED,
            )
            .group_by(col(AuditProblem.code), col(AuditProblem.subject))
        )
        with session_scope(self.db) as session:
            return {(code, subject): int(count) for code, subject, count in session.exec(query)}
