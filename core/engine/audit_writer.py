"""Write the audit log around every ServiceNow write: `begin` commits the rows (pending, with the mapped
payload and its hash) BEFORE the write, `finish` commits the outcome AFTER it, each attempt also appended to
the record's history (AuditAttempt). A crash between the two leaves `pending` rows that the next run resends;
staging coalesces on the external key, so the resend cannot duplicate.

The engine calls `begin_async`/`finish_async`: the same transactions on one audit-writer thread, so the event
loop goes on (mapping the next batch, reading other writes' answers) while the database executes and commits
(SQLite and psycopg release the GIL there). One thread keeps the writes in order and off each other's locks.

Beside each record's error_code/error_message the writer keeps its problems, structured (`audit_problems`).

When a transaction meets a transient error (the server dropped the connection in a restart or an outage
that terminates sessions, a serialization failure, SQLite busy past its timeout), it is run again from its
start on a new connection, which waits for the server, for as long as the engine's outage window allows
(`db.transient`): the failed one was rolled back whole. (Dropped during COMMIT itself, it may have committed:
`begin` then counts one more attempt for those records and `finish` writes the same outcome again.)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa

from zbsn.core.clock import Clock
from zbsn.core.db.models import AuditAttempt, AuditRecord
from zbsn.core.db.transient import with_retries
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.audit_problems import entry_problems, error_problem, replace_problems
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.servicenow.models import StagingOutcome, StagingRow

_T = TypeVar("_T")
_IN_CHUNK = 500
_WRITER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zbsn-audit-writer")


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
    problems: list[Problem] = field(default_factory=list)  # stored structured when the entry fails


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


_RECORD = AuditRecord.__table__  # type: ignore[attr-defined]
_ATTEMPT = AuditAttempt.__table__  # type: ignore[attr-defined]
_CARRIED = ("zoho_number", "zoho_modified", "vendor_name", "amount", "currency", "doc_date")


class AuditWriter:
    """Batched audit writes for one run of one profile (bulk statements: one round trip per kind of write)."""

    def __init__(self, engine: sa.Engine, profile_id: int, run_id: int | None, clock: Clock) -> None:
        self.engine = engine
        self.profile_id = profile_id
        self.run_id = run_id
        self.clock = clock
        # an in-memory SQLite database is one per thread: its writes must stay on the caller's thread
        url = engine.url
        self._threaded = not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))

    async def begin_async(self, entries: Sequence[AuditEntry]) -> list[Ticket]:
        """`begin` on the audit-writer thread (see the module docstring); returns once it has committed."""
        return await self._on_writer_thread(self.begin, entries)

    async def finish_async(self, completions: Sequence[Completion]) -> None:
        """`finish` on the audit-writer thread; returns once it has committed."""
        await self._on_writer_thread(self.finish, completions)

    async def _on_writer_thread(self, call: Callable[[Any], _T], argument: Any) -> _T:
        if not self._threaded:
            return with_retries(self.engine, call, argument)
        return await asyncio.get_running_loop().run_in_executor(
            _WRITER_THREAD, with_retries, self.engine, call, argument
        )

    def begin(self, entries: Sequence[AuditEntry]) -> list[Ticket]:
        """Commit each entry's audit row and a new attempt; pending ones are then safe to send."""
        if not entries:
            return []
        if len({(e.kind, e.zoho_id) for e in entries}) != len(entries):
            raise ValueError("one batch holds the same record twice")
        now = self.clock.now()
        with self.engine.begin() as conn:
            existing = self._load(conn, entries)
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            attempts_no: list[int] = []
            digests: list[str | None] = []
            with_problems: list[int] = []  # rewritten records that carried an error, so maybe problems
            for entry in entries:
                payload = mapped_payload(entry) if entry.rows else None
                digest = payload_hash(payload) if payload else None
                digests.append(digest)
                values = self._values(entry, payload, digest, now)
                found = existing.get((entry.kind, entry.zoho_id))
                if found is None:
                    values.update(
                        profile_id=self.profile_id,
                        kind=entry.kind,
                        zoho_id=entry.zoho_id,
                        created_at=now,
                        attempts=1,
                    )
                    inserts.append(values)
                    attempts_no.append(1)
                else:
                    values.update(b_id=found[0], attempts=found[1] + 1)
                    updates.append(values)
                    attempts_no.append(found[1] + 1)
                    if found[2]:
                        with_problems.append(found[0])
            ids = self._insert_records(conn, inserts)
            for same_shape in _by_shape(updates):
                conn.execute(_RECORD.update().where(_RECORD.c.id == sa.bindparam("b_id")), same_shape)
            audit_ids = [ids.get((e.kind, e.zoho_id)) or existing[(e.kind, e.zoho_id)][0] for e in entries]
            problems = [row for e, a in zip(entries, audit_ids, strict=True) for row in entry_problems(a, e)]
            replace_problems(conn, with_problems, problems)
            attempt_rows = [
                {
                    "audit_id": audit_id,
                    "run_id": self.run_id,
                    "attempt_no": number,
                    "started_at": now,
                    "status": e.status,
                    "error_code": e.error_code,
                    "error_message": e.error_message,
                    "payload_hash": digest,
                    "finished_at": None if e.status == AuditStatus.PENDING else now,
                }
                for e, audit_id, number, digest in zip(entries, audit_ids, attempts_no, digests, strict=True)
            ]
            # Matched back by audit id (one attempt per record here), not by position: asking for the
            # parameters' order makes SQLAlchemy insert row by row on SQLite; unordered, it batches.
            attempt_ids = dict(
                conn.execute(
                    _ATTEMPT.insert().returning(_ATTEMPT.c.audit_id, _ATTEMPT.c.id), attempt_rows
                ).all()
            )
        return [Ticket(a, attempt_ids[a], e) for e, a in zip(entries, audit_ids, strict=True)]

    def finish(self, completions: Sequence[Completion]) -> None:
        """Commit the outcome of each write on its audit row and its attempt.

        `begin` already set the run and cleared the error of every pending row, so a success writes only
        what changed: each column in the SET rewrites the entries of every index holding it.
        """
        if not completions:
            return
        now = self.clock.now()
        records, attempts, problems, failed = [], [], [], []
        for done in completions:
            common: dict[str, Any] = {"status": done.status, "staging_status": done.staging_status}
            if done.error_code is not None or done.error_message is not None:
                common.update(error_code=done.error_code, error_message=done.error_message)
                problems += error_problem(done.ticket.audit_id, done.error_code)
                failed.append(done.ticket.audit_id)
            records.append(
                {
                    **common,
                    "b_id": done.ticket.audit_id,
                    "updated_at": now,
                    "sn_sys_id": done.sn_sys_id,
                    "sn_import_set": done.import_set,
                }
            )
            attempts.append(
                {**common, "b_id": done.ticket.attempt_id, "finished_at": now, "sn_sys_id": done.sn_sys_id}
            )
        with self.engine.begin() as conn:
            for same_shape in _by_shape(records):
                conn.execute(_RECORD.update().where(_RECORD.c.id == sa.bindparam("b_id")), same_shape)
            for same_shape in _by_shape(attempts):
                conn.execute(_ATTEMPT.update().where(_ATTEMPT.c.id == sa.bindparam("b_id")), same_shape)
            replace_problems(conn, failed, problems)  # `begin` cleared them: this only matters on a rerun

    def _values(self, entry: AuditEntry, payload: str | None, digest: str | None, now: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "run_id": self.run_id,
            "external_key": entry.external_key,
            "status": entry.status,
            "error_code": entry.error_code,
            "error_message": entry.error_message,
            "updated_at": now,
        }
        for name in _CARRIED:
            value = getattr(entry, name)
            if name != "amount" and not isinstance(value, str):
                value = None  # a hostile payload's list or number: the source payload keeps it
            if value is not None:
                values[name] = value
        if entry.source_payload is not None:
            values["source_payload"] = entry.source_payload
        if payload is not None:
            values["mapped_payload"], values["payload_hash"] = payload, digest
        if entry.status != AuditStatus.PENDING:
            values["staging_status"] = None
        return values

    def _insert_records(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        if not rows:
            return {}
        # executemany needs one shape: fill what some rows carry and others do not
        columns = {name for row in rows for name in row}
        shaped = [{name: row.get(name) for name in columns} for row in rows]
        # each row is matched back by its (kind, zoho_id), so the batch needs no order (see `begin`)
        result = conn.execute(
            _RECORD.insert().returning(_RECORD.c.id, _RECORD.c.kind, _RECORD.c.zoho_id), shaped
        )
        return {(kind, zoho_id): audit_id for audit_id, kind, zoho_id in result}

    def _load(
        self, conn: sa.Connection, entries: Sequence[AuditEntry]
    ) -> dict[tuple[str, str], tuple[int, int, bool]]:
        """(kind, zoho id) -> (audit id, attempts so far, whether it carries an error) of existing rows."""
        found: dict[tuple[str, str], tuple[int, int, bool]] = {}
        by_kind: dict[str, list[str]] = {}
        for entry in entries:
            by_kind.setdefault(entry.kind, []).append(entry.zoho_id)
        for kind, ids in by_kind.items():
            for start in range(0, len(ids), _IN_CHUNK):
                query = sa.select(
                    _RECORD.c.id, _RECORD.c.zoho_id, _RECORD.c.attempts, _RECORD.c.error_code.is_not(None)
                ).where(
                    _RECORD.c.profile_id == self.profile_id,
                    _RECORD.c.kind == kind,
                    _RECORD.c.zoho_id.in_(ids[start : start + _IN_CHUNK]),
                )
                for audit_id, zoho_id, attempts, has_error in conn.execute(query):
                    found[(kind, zoho_id)] = (audit_id, attempts, bool(has_error))
        return found


def _by_shape(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split rows into groups with the same keys (an executemany needs one shape)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())
