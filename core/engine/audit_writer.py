"""Write the audit log around every ServiceNow write: `begin` commits the rows (pending, with the mapped
payload and its hash) BEFORE the write, `finish` commits the outcome AFTER it, each attempt also appended to
the record's history (AuditAttempt). A crash between the two leaves `pending` rows that the next run resends;
staging coalesces on the external key, so the resend cannot duplicate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from zbsn.core.clock import Clock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditAttempt, AuditRecord, AuditStatus
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.servicenow.models import StagingOutcome, StagingRow

_IN_CHUNK = 500


@dataclass(slots=True)
class AuditEntry:
    """One record's audit state before its write (or its final state when it is not sent)."""

    kind: str
    zoho_id: str
    external_key: str
    status: str = AuditStatus.PENDING  # pending (to send) | failed | skipped
    zoho_number: str | None = None
    zoho_modified: str | None = None
    vendor_name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    doc_date: str | None = None
    source_payload: str | None = None
    rows: list[StagingRow] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # carried in the mapped payload (e.g. exchange rate)
    success_status: str = AuditStatus.STAGED  # what a successful write means (staged or cancelled)
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """The rows `begin` wrote for one entry, to be completed by `finish`."""

    audit_id: int
    attempt_id: int
    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class Completion:
    """How one record's write ended."""

    ticket: Ticket
    status: str
    staging_status: str | None
    sn_sys_id: str | None
    import_set: str | None
    error_code: str | None
    error_message: str | None


def mapped_payload(entry: AuditEntry) -> str:
    """The JSON stored as the mapped payload: the staging rows plus what they carry besides."""
    rows = [{"table": r.table, "source_ref": r.source_ref, "values": r.values} for r in entry.rows]
    return json.dumps({"external_key": entry.external_key, **entry.extra, "rows": rows}, sort_keys=True)


def rows_from_payload(payload: str | None) -> list[StagingRow]:
    """The staging rows stored in a mapped payload (empty when none)."""
    if not payload:
        return []
    data = json.loads(payload)
    return [StagingRow.model_validate(row) for row in data.get("rows", [])]


def payload_hash(payload: str) -> str:
    """A short stable digest of a mapped payload."""
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def conclude(ticket: Ticket, outcomes: Sequence[StagingOutcome]) -> Completion:
    """Fold a record's row outcomes into one result: staged only when every row succeeded."""
    failures = [o for o in outcomes if not o.status.is_success]
    head = outcomes[0] if outcomes else None
    sys_id = head.target_sys_id if head else None
    import_set = head.import_set if head else None
    if head is None or failures:
        message = "; ".join(
            f"{o.source_ref}: {o.status.value} {o.message or ''}".strip() for o in failures[:3]
        )
        staging_status = failures[0].status.value if failures else None
        code = ErrorCode.STAGING_ERROR.value
        return Completion(
            ticket,
            AuditStatus.FAILED,
            staging_status,
            sys_id,
            import_set,
            code,
            message or "no outcome was read back",
        )
    return Completion(ticket, ticket.entry.success_status, head.status.value, sys_id, import_set, None, None)


class AuditWriter:
    """Batched audit writes for one run of one profile."""

    def __init__(self, engine: sa.Engine, profile_id: int, run_id: int | None, clock: Clock) -> None:
        self.engine = engine
        self.profile_id = profile_id
        self.run_id = run_id
        self.clock = clock

    def begin(self, entries: Sequence[AuditEntry]) -> list[Ticket]:
        """Commit each entry's audit row and a new attempt; pending ones are then safe to send."""
        if not entries:
            return []
        now = self.clock.now()
        with session_scope(self.engine) as session:
            existing = self._load(session, entries)
            pairs: list[tuple[AuditEntry, AuditRecord, AuditAttempt]] = []
            for entry in entries:
                record = existing.get((entry.kind, entry.zoho_id))
                if record is None:
                    record = AuditRecord(
                        profile_id=self.profile_id,
                        kind=entry.kind,
                        zoho_id=entry.zoho_id,
                        external_key=entry.external_key,
                        created_at=now,
                    )
                    existing[(entry.kind, entry.zoho_id)] = record
                payload = mapped_payload(entry) if entry.rows else None
                digest = payload_hash(payload) if payload else None
                self._fill(record, entry, payload, digest, now)
                session.add(record)
                attempt = AuditAttempt(
                    audit_id=0,
                    run_id=self.run_id,
                    attempt_no=record.attempts,
                    started_at=now,
                    status=entry.status,
                    error_code=entry.error_code,
                    error_message=entry.error_message,
                    payload_hash=digest,
                    finished_at=None if entry.status == AuditStatus.PENDING else now,
                )
                pairs.append((entry, record, attempt))
            session.flush()
            for _entry, record, attempt in pairs:
                assert record.id is not None
                attempt.audit_id = record.id
                session.add(attempt)
            session.flush()
            return [Ticket(r.id or 0, a.id or 0, e) for e, r, a in pairs]

    def finish(self, completions: Sequence[Completion]) -> None:
        """Commit the outcome of each write on its audit row and its attempt."""
        if not completions:
            return
        now = self.clock.now()
        with session_scope(self.engine) as session:
            records = {
                r.id: r for r in self._by_ids(session, AuditRecord, [c.ticket.audit_id for c in completions])
            }
            attempts = {
                a.id: a
                for a in self._by_ids(session, AuditAttempt, [c.ticket.attempt_id for c in completions])
            }
            for done in completions:
                record, attempt = records[done.ticket.audit_id], attempts[done.ticket.attempt_id]
                record.status = attempt.status = done.status
                record.staging_status = attempt.staging_status = done.staging_status
                record.error_code = attempt.error_code = done.error_code
                record.error_message = attempt.error_message = done.error_message
                if done.sn_sys_id:
                    record.sn_sys_id = attempt.sn_sys_id = done.sn_sys_id
                if done.import_set:
                    record.sn_import_set = done.import_set
                record.run_id = self.run_id or record.run_id
                record.updated_at = attempt.finished_at = now
                session.add(record)
                session.add(attempt)

    def _fill(
        self, record: AuditRecord, entry: AuditEntry, payload: str | None, digest: str | None, now: Any
    ) -> None:
        record.run_id = self.run_id or record.run_id
        record.external_key = entry.external_key
        for name in ("zoho_number", "zoho_modified", "vendor_name", "amount", "currency", "doc_date"):
            value = getattr(entry, name)
            if value is not None:
                setattr(record, name, value)
        if entry.source_payload is not None:
            record.source_payload = entry.source_payload
        if payload is not None:
            record.mapped_payload, record.payload_hash = payload, digest
        record.status = entry.status
        record.error_code, record.error_message = entry.error_code, entry.error_message
        if entry.status != AuditStatus.PENDING:
            record.staging_status = None
        record.attempts += 1
        record.updated_at = now

    def _load(self, session: Session, entries: Sequence[AuditEntry]) -> dict[tuple[str, str], AuditRecord]:
        found: dict[tuple[str, str], AuditRecord] = {}
        by_kind: dict[str, list[str]] = {}
        for entry in entries:
            by_kind.setdefault(entry.kind, []).append(entry.zoho_id)
        for kind, ids in by_kind.items():
            for start in range(0, len(ids), _IN_CHUNK):
                query = select(AuditRecord).where(
                    AuditRecord.profile_id == self.profile_id,
                    AuditRecord.kind == kind,
                    AuditRecord.zoho_id.in_(ids[start : start + _IN_CHUNK]),  # type: ignore[attr-defined]
                )
                for record in session.exec(query):
                    found[(record.kind, record.zoho_id)] = record
        return found

    @staticmethod
    def _by_ids(session: Session, model: Any, ids: list[int]) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(ids), _IN_CHUNK):
            rows += session.exec(select(model).where(model.id.in_(ids[start : start + _IN_CHUNK]))).all()
        return rows
