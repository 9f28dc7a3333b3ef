"""A writer transaction whose connection the server drops midway (an outage, a restart, an admin kill) runs
again on a new connection: the records are written once, with one attempt each, and the run goes on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from zbsn.core.clock import OffsetClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditAttempt, AuditProblem, AuditRecord
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion
from zbsn.core.engine.problems import ErrorCode, Problem

from .harness import bare_profile
from .test_audit_writer_thread import _entry


@pytest.fixture
def pg_engine() -> Iterator[sa.Engine]:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    for url in _fresh_postgres_database():
        engine = make_engine(url)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()


def _kill_once_at(engine: sa.Engine, statement_start: str) -> list[str]:
    """Terminate the connection's backend (as an outage does) the first time it runs such a statement."""
    killed: list[str] = []
    admin = sa.create_engine(str(POSTGRES_URL), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def kill(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not killed and statement.startswith(statement_start):
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with admin.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killed.append(statement_start)

    sa.event.listen(engine, "before_cursor_execute", kill)
    return killed


@pytest.mark.postgres
async def test_begin_and_finish_survive_a_dropped_connection(pg_engine: sa.Engine) -> None:
    writer = AuditWriter(pg_engine, bare_profile(pg_engine), None, OffsetClock())
    failed = AuditEntry(kind="bill", zoho_id="9", external_key="k9", status=AuditStatus.FAILED)
    failed.error_code, failed.error_message = "UNMAPPED_COST_CENTER", "cost center 'Ops' is not mapped"
    failed.problems = [Problem(ErrorCode.UNMAPPED_COST_CENTER, failed.error_message, "Ops")]
    killed = _kill_once_at(pg_engine, "INSERT INTO audit_attempt")

    tickets = await writer.begin_async([_entry(1), _entry(2), failed])

    assert killed == ["INSERT INTO audit_attempt"]  # the first try died between its statements
    killed_finish = _kill_once_at(pg_engine, "INSERT INTO audit_problem")
    refused = Completion(tickets[1], AuditStatus.FAILED, "error", None, None, "STAGING_ERROR", "row: error")
    staged = Completion(tickets[0], AuditStatus.STAGED, "inserted", "sys1", None, None, None)
    await writer.finish_async([staged, refused])

    assert killed_finish == ["INSERT INTO audit_problem"]
    with session_scope(pg_engine) as session:
        records = {r.zoho_id: r for r in session.exec(select(AuditRecord))}
        attempts = session.exec(select(AuditAttempt)).all()
        problems = {(p.audit_id, p.code, p.subject) for p in session.exec(select(AuditProblem))}
    assert {k: (r.status, r.attempts) for k, r in records.items()} == {
        "1": (AuditStatus.STAGED, 1),
        "2": (AuditStatus.FAILED, 1),
        "9": (AuditStatus.FAILED, 1),
    }
    assert len(attempts) == 3  # one attempt each: the dropped transaction left nothing behind
    assert problems == {
        (records["2"].id, "STAGING_ERROR", None),
        (records["9"].id, "UNMAPPED_COST_CENTER", "Ops"),
    }
