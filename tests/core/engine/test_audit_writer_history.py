"""One record written by several runs: its audit row always shows the latest attempt, its history all of them.

`finish` writes only what an outcome changes (begin already set the run and cleared the error), so these
tests pin what the row holds after each transition: failed -> staged clears the error, staged -> failed
sets it, and the run and attempt count follow the latest attempt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.clock import OffsetClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditAttempt, AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.audit_writer import AuditEntry, AuditWriter, Completion

from .harness import bare_profile
from .test_audit_writer_thread import _entry


@pytest.fixture
def db(tmp_path: Path) -> sa.Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    migrate.upgrade(engine)
    return engine


def _run(db: sa.Engine, profile_id: int) -> int:
    with session_scope(db) as session:
        run = SyncRun(profile_id=profile_id)
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def _write(db: sa.Engine, profile_id: int, entry: AuditEntry, outcome: str) -> int:
    """Begin and finish one entry in a new run; `outcome` is "staged" or "failed". Returns the run id."""
    run_id = _run(db, profile_id)
    writer = AuditWriter(db, profile_id, run_id, OffsetClock())
    (ticket,) = writer.begin([entry])
    if outcome == "staged":
        done = Completion(ticket, AuditStatus.STAGED, "updated", "sys-1", "ISET1", None, None)
    else:
        error = ("STAGING_ERROR", "no cost center")
        done = Completion(ticket, AuditStatus.FAILED, "error", None, "ISET1", *error)
    writer.finish([done])
    return run_id


def _record(db: sa.Engine) -> AuditRecord:
    with session_scope(db) as session:
        record = session.exec(select(AuditRecord)).one()
        session.expunge(record)
        return record


def test_a_failed_record_staged_later_loses_its_error(db: sa.Engine) -> None:
    profile_id = bare_profile(db)
    _write(db, profile_id, _entry(1), "failed")
    failed = _record(db)
    assert (failed.status, failed.error_code, failed.error_message) == (
        AuditStatus.FAILED,
        "STAGING_ERROR",
        "no cost center",
    )
    second = _write(db, profile_id, _entry(1), "staged")
    staged = _record(db)
    assert (staged.status, staged.error_code, staged.error_message) == (AuditStatus.STAGED, None, None)
    assert (staged.run_id, staged.attempts, staged.staging_status, staged.sn_sys_id) == (
        second,
        2,
        "updated",
        "sys-1",
    )
    with session_scope(db) as session:
        history = session.exec(select(AuditAttempt).order_by(AuditAttempt.attempt_no)).all()  # type: ignore[arg-type]
        assert [(a.attempt_no, a.status, a.error_code) for a in history] == [
            (1, AuditStatus.FAILED, "STAGING_ERROR"),
            (2, AuditStatus.STAGED, None),
        ]
        assert all(a.finished_at is not None for a in history)


def test_a_staged_record_that_fails_on_resend_shows_the_error(db: sa.Engine) -> None:
    profile_id = bare_profile(db)
    _write(db, profile_id, _entry(1), "staged")
    second = _write(db, profile_id, _entry(1), "failed")
    record = _record(db)
    assert (record.status, record.error_code, record.run_id, record.attempts) == (
        AuditStatus.FAILED,
        "STAGING_ERROR",
        second,
        2,
    )
