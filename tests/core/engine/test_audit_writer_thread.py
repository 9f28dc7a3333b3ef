"""The audit writer commits on its own thread, except for an in-memory SQLite database (one per thread)."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.clock import OffsetClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditAttempt, AuditRecord
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion
from zbsn.core.servicenow.models import StagingRow

from .harness import bare_profile


def _entry(n: int) -> AuditEntry:
    row = StagingRow(table="t", values={"u_key": str(n)}, source_ref=f"k{n}")
    return AuditEntry(kind="bill", zoho_id=str(n), external_key=f"k{n}", rows=[row])


async def _begin_and_finish(db: sa.Engine) -> set[str]:
    """Two records through begin_async/finish_async; the names of the threads their writes ran on."""
    writer = AuditWriter(db, bare_profile(db), None, OffsetClock())
    threads: set[str] = set()

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith(("INSERT INTO audit_", "UPDATE audit_")):
            threads.add(threading.current_thread().name)

    sa.event.listen(db, "before_cursor_execute", note)
    tickets = await writer.begin_async([_entry(1), _entry(2)])
    with session_scope(db) as session:  # committed before begin_async returned
        assert {r.status for r in session.exec(select(AuditRecord)).all()} == {AuditStatus.PENDING}
    done = [
        Completion(t, AuditStatus.STAGED, "inserted", f"sys{t.audit_id}", None, None, None) for t in tickets
    ]
    await writer.finish_async(done)
    with session_scope(db) as session:
        records = session.exec(select(AuditRecord).order_by(AuditRecord.zoho_id)).all()
        attempts = session.exec(select(AuditAttempt)).all()
    assert [(r.zoho_id, r.status, r.sn_sys_id) for r in records] == [
        ("1", AuditStatus.STAGED, f"sys{records[0].id}"),
        ("2", AuditStatus.STAGED, f"sys{records[1].id}"),
    ]
    assert {(a.audit_id, a.status) for a in attempts} == {(r.id, AuditStatus.STAGED) for r in records}
    return threads


async def test_a_database_file_is_written_on_the_audit_writer_thread(tmp_path: Path) -> None:
    db = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    migrate.upgrade(db)
    threads = await _begin_and_finish(db)
    assert threads == {"zbsn-audit-writer_0"}


async def test_an_in_memory_database_is_written_on_the_callers_thread() -> None:
    db = make_engine("sqlite://", poolclass=sa.pool.StaticPool)
    migrate.upgrade(db)
    threads = await _begin_and_finish(db)
    assert threads == {threading.current_thread().name}
