"""A failed record's problems are stored structured (code and subject each) beside its error code and message,
replaced whenever the record is written again, and counted per (code, subject) with no message text."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.clock import OffsetClock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditProblem, AuditRecord, Connection, SyncProfile
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion, Ticket
from zbsn.core.engine.history import History
from zbsn.core.engine.problems import ErrorCode, Problem, summarize

from .harness import bare_profile
from .test_audit_writer_thread import _entry

CC = Problem(ErrorCode.UNMAPPED_COST_CENTER, "cost center 'Ops' is not mapped", "Ops")
GL = Problem(ErrorCode.UNMAPPED_GL_ACCOUNT, "GL account 'Travel' is not mapped", "Travel")
LINES = Problem(ErrorCode.MALFORMED_RECORD, "the bill has no lines")


def _failed(n: int, *problems: Problem) -> AuditEntry:
    entry = AuditEntry(kind="bill", zoho_id=str(n), external_key=f"k{n}", status=AuditStatus.FAILED)
    entry.error_code, entry.error_message = summarize(list(problems))
    entry.problems = list(problems)
    return entry


def _problems(db: sa.Engine) -> dict[str, set[tuple[str, str | None]]]:
    with session_scope(db) as session:
        ids = {r.id: r.zoho_id for r in session.exec(select(AuditRecord))}
        found: dict[str, set[tuple[str, str | None]]] = {}
        for p in session.exec(select(AuditProblem)):
            found.setdefault(ids[p.audit_id], set()).add((p.code, p.subject))
        return found


def _finish(writer: AuditWriter, ticket: Ticket, failed: bool) -> None:
    if failed:
        done = Completion(ticket, AuditStatus.FAILED, "error", None, None, "STAGING_ERROR", "row 1: error")
    else:
        done = Completion(ticket, AuditStatus.STAGED, "inserted", "sys1", None, None, None)
    writer.finish([done])


def test_every_problem_of_a_failed_record_is_stored_with_its_subject(engine: sa.Engine) -> None:
    writer = AuditWriter(engine, bare_profile(engine), None, OffsetClock())
    coded_only = AuditEntry(
        kind="bill",
        zoho_id="3",
        external_key="k3",
        status=AuditStatus.FAILED,
        error_code=ErrorCode.NOT_FOUND.value,
        error_message="the bill no longer exists in Zoho Books",
    )
    skipped = AuditEntry(kind="bill", zoho_id="4", external_key="k4", status=AuditStatus.SKIPPED)
    skipped.error_message = "voided in Zoho Books; never staged, nothing to cancel"

    writer.begin([_failed(1, CC, GL), _failed(2, LINES), coded_only, skipped, _entry(5)])

    assert _problems(engine) == {
        "1": {("UNMAPPED_COST_CENTER", "Ops"), ("UNMAPPED_GL_ACCOUNT", "Travel")},
        "2": {("MALFORMED_RECORD", None)},
        "3": {("NOT_FOUND", None)},  # an error code without problems is stored as its one problem
    }
    with session_scope(engine) as session:
        first = session.exec(select(AuditRecord).where(AuditRecord.zoho_id == "1")).one()
    assert first.error_code == "UNMAPPED_COST_CENTER"  # the text columns are still written
    assert first.error_message == "cost center 'Ops' is not mapped; GL account 'Travel' is not mapped"


def test_writing_a_record_again_replaces_its_problems(engine: sa.Engine) -> None:
    writer = AuditWriter(engine, bare_profile(engine), None, OffsetClock())
    writer.begin([_failed(1, CC, GL), _failed(2, CC)])

    writer.begin([_failed(1, GL)])  # re-validated: only the GL account is still missing
    assert _problems(engine)["1"] == {("UNMAPPED_GL_ACCOUNT", "Travel")}

    (ticket,) = writer.begin([_entry(1)])  # mapped now: pending, no problem while it is sent
    assert "1" not in _problems(engine)
    _finish(writer, ticket, failed=True)  # ServiceNow refused the row
    assert _problems(engine)["1"] == {("STAGING_ERROR", None)}

    (ticket,) = writer.begin([_entry(1)])  # replayed and staged
    _finish(writer, ticket, failed=False)
    assert _problems(engine) == {"2": {("UNMAPPED_COST_CENTER", "Ops")}}  # the other record keeps its own


def test_blocked_bills_are_counted_per_code_and_subject(engine: sa.Engine) -> None:
    profile_id = bare_profile(engine)
    writer = AuditWriter(engine, profile_id, None, OffsetClock())
    ops_elsewhere = Problem(ErrorCode.UNMAPPED_SUPPLIER, "vendor 'Ops' has no ServiceNow supplier", "Ops")
    payment = _failed(9, CC)
    payment.kind = "payment"
    writer.begin([_failed(1, CC, GL), _failed(2, CC), _failed(3, ops_elsewhere), payment, _entry(4)])

    assert History(engine, profile_id).blocked_bills() == {
        ("UNMAPPED_COST_CENTER", "Ops"): 2,  # bills only: the payment is not counted
        ("UNMAPPED_GL_ACCOUNT", "Travel"): 1,
        ("UNMAPPED_SUPPLIER", "Ops"): 1,  # the same name under another code is another mapping
    }
    assert History(engine, _other_profile(engine)).blocked_bills() == {}


def _other_profile(engine: sa.Engine) -> int:
    """A second profile, whose blocked counts are its own (none)."""
    with session_scope(engine) as session:
        zoho, sn = Connection(kind="zoho", name="z2"), Connection(kind="servicenow", name="s2")
        session.add_all([zoho, sn])
        session.flush()
        assert zoho.id is not None
        assert sn.id is not None
        profile = SyncProfile(name="p2", zoho_connection_id=zoho.id, servicenow_connection_id=sn.id)
        session.add(profile)
        session.flush()
        assert profile.id is not None
        return profile.id
