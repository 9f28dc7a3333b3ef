"""The database side of the status refresh: which records to follow, and storing what a refresh read.

Followed: every bill record of the profile that reached ServiceNow (it has the invoice's sys_id) whose last
ServiceNow status is not final (paid, canceled, gone), plus every one written since the last refresh began
(new, re-staged or flagged). The second set is found through the (profile_id, updated_at) index from a
watermark kept as a `SyncCursor` ("servicenow_status"), advanced only when a refresh completes, so a refresh
never walks the whole log. Runs of one profile never overlap (the run lock), so nothing is written for the
profile while a refresh runs.

A refresh stores one `ServiceNowStatusRecord` per record, copies the status onto `audit_record.sn_status`
(never touching `updated_at`: the audit page order is the staging order), appends a `ServiceNowStatusChange`
when it changed, and turns a flagged record (a void or delete zbsn did not write) `cancelled` once
ServiceNow holds its invoice as canceled. All of it in one transaction per refresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from zbsn.core.db.models import (
    AuditAttempt,
    AuditRecord,
    ServiceNowStatusChange,
    ServiceNowStatusRecord,
    SyncCursor,
)
from zbsn.core.domain import FINAL_SERVICENOW_STATUSES, AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine.sn_status import ExceptionNote, ImportErrorNote, StatusReading, change_reason
from zbsn.core.engine.transform_credits import credit_id_as_bill_id

WATERMARK = "servicenow_status"
_CHUNK = 500
_AR: sa.Table = AuditRecord.__table__  # type: ignore[attr-defined]
_ATT: sa.Table = AuditAttempt.__table__  # type: ignore[attr-defined]
_SS: sa.Table = ServiceNowStatusRecord.__table__  # type: ignore[attr-defined]
_CH: sa.Table = ServiceNowStatusChange.__table__  # type: ignore[attr-defined]
_CUR: sa.Table = SyncCursor.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Tracked:
    """A record whose invoice a refresh reads."""

    audit_id: int
    zoho_id: str  # the bill id: the ERP number zbsn posts
    number: str | None
    invoice_sys_id: str
    audit_status: str
    doc_date: str | None
    last_sent: datetime | None  # when zbsn last wrote it to ServiceNow
    previous: StatusReading | None


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def read_watermark(conn: sa.Connection, profile_id: int) -> datetime | None:
    """When the last completed refresh of the profile began (None: never)."""
    query = sa.select(_CUR.c.updated_at).where(_CUR.c.profile_id == profile_id, _CUR.c.entity == WATERMARK)
    found: datetime | None = conn.execute(query).scalar_one_or_none()
    return found


def save_watermark(conn: sa.Connection, profile_id: int, began: datetime) -> None:
    """Note that a refresh that began at `began` completed."""
    where = sa.and_(_CUR.c.profile_id == profile_id, _CUR.c.entity == WATERMARK)
    if conn.execute(sa.select(_CUR.c.id).where(where)).first() is None:
        conn.execute(
            _CUR.insert().values(profile_id=profile_id, entity=WATERMARK, cursor_value=None, updated_at=began)
        )
    else:
        conn.execute(_CUR.update().where(where).values(updated_at=began))


def _loads(text: str | None) -> list[dict[str, Any]]:
    try:
        data = json.loads(text) if text else []
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def reading_from_row(row: Any) -> StatusReading:
    """A stored status row as the reading it was made from."""
    try:
        status = ServiceNowStatus(row.status)
    except ValueError:
        status = ServiceNowStatus.OTHER
    return StatusReading(
        status=status,
        invoice_sys_id=row.invoice_sys_id,
        state=row.state,
        number=row.number,
        erp_number=row.erp_number,
        erp_posting_date=row.erp_posting_date,
        amount=row.amount,
        currency=row.currency,
        amount_paid=row.amount_paid,
        exceptions=tuple(
            ExceptionNote(
                level=str(e.get("level") or "header"),
                definition=str(e.get("definition") or "Exception"),
                description=str(e.get("description") or ""),
                line=_text(e.get("line")),
                number=_text(e.get("number")),
            )
            for e in _loads(row.exceptions)
        ),
        import_errors=tuple(
            ImportErrorNote(
                message=str(e.get("message") or ""),
                source_table=_text(e.get("source_table")),
                line=_text(e.get("line")),
                created_on=_text(e.get("created_on")),
            )
            for e in _loads(row.import_errors)
        ),
        outbound_status=row.outbound_status,
        processing_message=row.processing_message,
        replay_fixes=bool(row.replay_fixes),
        summary=row.summary or "",
    )


def load_tracked(conn: sa.Connection, profile_id: int) -> list[Tracked]:
    """The records a refresh of this profile reads (see the module docstring), oldest id first."""
    since = read_watermark(conn, profile_id)
    open_statuses = [s.value for s in ServiceNowStatus if s not in FINAL_SERVICENOW_STATUSES]
    ids = set(
        conn.execute(
            sa.select(_SS.c.audit_id).where(_SS.c.profile_id == profile_id, _SS.c.status.in_(open_statuses))
        ).scalars()
    )
    recent = sa.select(_AR.c.id).where(
        _AR.c.profile_id == profile_id,
        _AR.c.kind.in_((RecordKind.BILL.value, RecordKind.VENDOR_CREDIT.value)),  # invoices and credit memos
        _AR.c.sn_sys_id.is_not(None),
    )
    if since is not None:
        recent = recent.where(_AR.c.updated_at >= since)
    ids.update(conn.execute(recent).scalars())
    wanted = sorted(ids)
    tracked: list[Tracked] = []
    for chunk in _chunks(wanted):
        records = conn.execute(
            sa.select(
                _AR.c.id,
                _AR.c.kind,
                _AR.c.zoho_id,
                _AR.c.zoho_number,
                _AR.c.sn_sys_id,
                _AR.c.status,
                _AR.c.doc_date,
            ).where(_AR.c.id.in_(chunk), _AR.c.sn_sys_id.is_not(None))
        ).all()
        previous = {
            r.audit_id: reading_from_row(r)
            for r in conn.execute(_SS.select().where(_SS.c.audit_id.in_(chunk)))
        }
        sent = dict(
            conn.execute(
                sa.select(_ATT.c.audit_id, sa.func.max(_ATT.c.started_at))
                .where(_ATT.c.audit_id.in_(chunk), _ATT.c.staging_status.is_not(None))
                .group_by(_ATT.c.audit_id)
            ).all()
        )
        tracked += [
            Tracked(
                audit_id=r.id,
                # a credit memo's ERP number is `VC-<credit>` (transform_credits), a bill's its id
                zoho_id=r.zoho_id if r.kind != RecordKind.VENDOR_CREDIT else credit_id_as_bill_id(r.zoho_id),
                number=r.zoho_number,
                invoice_sys_id=r.sn_sys_id,
                audit_status=r.status,
                doc_date=r.doc_date,
                last_sent=_aware(sent.get(r.id)),
                previous=previous.get(r.id),
            )
            for r in records
        ]
    return tracked


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _row(profile_id: int, reading: StatusReading, now: datetime) -> dict[str, Any]:
    return {
        "profile_id": profile_id,
        "invoice_sys_id": reading.invoice_sys_id,
        "status": reading.status.value,
        "state": reading.state,
        "number": reading.number,
        "erp_number": reading.erp_number,
        "erp_posting_date": reading.erp_posting_date,
        "amount": reading.amount,
        "currency": reading.currency,
        "amount_paid": reading.amount_paid,
        "exceptions": json.dumps([asdict(e) for e in reading.exceptions]) if reading.exceptions else None,
        "import_errors": (
            json.dumps([asdict(e) for e in reading.import_errors]) if reading.import_errors else None
        ),
        "outbound_status": reading.outbound_status,
        "processing_message": reading.processing_message,
        "replay_fixes": reading.replay_fixes,
        "summary": reading.summary,
        "checked_at": now,
    }


@dataclass(frozen=True, slots=True)
class Saved:
    """What storing a refresh changed."""

    changed: int  # records whose status (or open problems) changed
    cancelled: int  # flagged records whose invoice ServiceNow now holds as canceled


def _change(
    audit_id: int, run_id: int | None, now: datetime, before: StatusReading | None, after: StatusReading
) -> dict[str, Any]:
    """One history row: from the status before to the one after, and why."""
    return {
        "audit_id": audit_id,
        "run_id": run_id,
        "at": now,
        "from_status": before.status.value if before else None,
        "to_status": after.status.value,
        "why": change_reason(before, after) or after.summary,
    }


def save_readings(
    conn: sa.Connection,
    profile_id: int,
    run_id: int | None,
    readings: Sequence[tuple[Tracked, StatusReading]],
    now: datetime,
) -> Saved:
    """Store what one refresh read (see the module docstring)."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    cancelled: list[int] = []
    changed = 0
    for tracked, reading in readings:
        values = _row(profile_id, reading, now)
        steps = len(history)
        before = tracked.previous
        if reading.read_as is not None and change_reason(before, reading.read_as) is not None:
            # approved in ServiceNow, then posted by zbsn in the same refresh: both steps are history
            history.append(_change(tracked.audit_id, run_id, now, before, reading.read_as))
            before = reading.read_as
        why = change_reason(before, reading)
        if why is not None:
            values["changed_at"] = now
            history.append(_change(tracked.audit_id, run_id, now, before, reading))
        changed += len(history) > steps
        if tracked.previous is None:
            inserts.append({"audit_id": tracked.audit_id, "changed_at": now, **values})
        else:
            updates.append({"b_id": tracked.audit_id, **values})
        if tracked.previous is None or tracked.previous.status is not reading.status:
            moved.append({"b_id": tracked.audit_id, "sn_status": reading.status.value})
        if tracked.audit_status == AuditStatus.FLAGGED and reading.status is ServiceNowStatus.CANCELED:
            cancelled.append(tracked.audit_id)
    if inserts:
        conn.execute(_SS.insert(), inserts)
    for same_shape in _by_shape(updates):
        conn.execute(_SS.update().where(_SS.c.audit_id == sa.bindparam("b_id")), same_shape)
    if moved:
        conn.execute(_AR.update().where(_AR.c.id == sa.bindparam("b_id")), moved)
    if history:
        conn.execute(_CH.insert(), history)
    for chunk in _chunks(cancelled):
        conn.execute(
            _AR.update()
            .where(_AR.c.id.in_(chunk), _AR.c.status == AuditStatus.FLAGGED.value)
            .values(status=AuditStatus.CANCELLED.value)
        )
    return Saved(changed=changed, cancelled=len(cancelled))


def _by_shape(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


def latest_readings(conn: sa.Connection, audit_ids: Sequence[int]) -> dict[int, StatusReading]:
    """The stored readings of these records (those followed so far)."""
    found: dict[int, StatusReading] = {}
    for chunk in _chunks(list(audit_ids)):
        for row in conn.execute(_SS.select().where(_SS.c.audit_id.in_(chunk))):
            found[row.audit_id] = reading_from_row(row)
    return found
