"""A run that fails shows the operator one readable line; the SQL and the payloads go to the log only.

The database refuses every audit insert (a trigger raises), mid-run: the run ends `failed`, and its stored
and returned message is one line naming the error's class and what to do, with no SQL text, no parameter
and no bill data (it used to carry ~12 kB of SQL with the batch's payloads). The log holds the statement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tests.core.engine.harness import create_profile
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import SyncRun
from zbsn.core.domain import RunStatus

from .conftest import Clients, World


def test_a_refused_statement_is_one_line_with_what_to_do(
    world: Callable[[int], World], sqlite_db: tuple[str, sa.Engine], caplog: pytest.LogCaptureFixture
) -> None:
    w = world(60)
    _url, db = sqlite_db
    profile = create_profile(db, w.endpoints)
    with db.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_attempt "
            "BEGIN SELECT RAISE(ABORT, 'audit writes are switched off'); END"
        )
    with caplog.at_level(logging.ERROR, logger="zbsn.core.engine.run_message"):
        summary = asyncio.run(Clients(w.endpoints).runner(db, batch_size=20).run(profile))
    assert summary.status == RunStatus.FAILED
    message = summary.message or ""
    print(f"\nthe operator reads: {message}")
    assert message.startswith("IntegrityError: audit writes are switched off — ")
    assert "next run" in message  # what to do
    assert "\n" not in message
    assert len(message) < 300
    vendors = {v.name for v in w.company.vendors}
    for leaked in ("INSERT", "SQL", "parameters", "audit_attempt", *vendors):
        assert leaked not in message
    with session_scope(db) as session:
        row = session.get(SyncRun, summary.run_id)
    assert row is not None
    assert row.message == message  # stored as shown
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "INSERT INTO audit_attempt" in logged  # the details are in the log
