"""The run lock (refusal, stale takeover) and the incremental cursor (overlap, cap at run start)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import SyncRun
from zbsn.core.domain import RunStatus
from zbsn.core.engine import lock
from zbsn.core.engine.cursors import CursorTracker, read_cursor, save_cursor, window_start

from .harness import bare_profile

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_a_held_lock_refuses_a_second_run_without_a_trace(sqlite_engine: sa.Engine) -> None:
    profile_id = bare_profile(sqlite_engine)
    lease = lock.acquire(sqlite_engine, profile_id, SyncRun(profile_id=profile_id), NOW)
    with pytest.raises(lock.RunLocked):
        lock.acquire(sqlite_engine, profile_id, SyncRun(profile_id=profile_id), NOW + timedelta(seconds=5))
    with session_scope(sqlite_engine) as session:
        assert session.get(SyncRun, lease.run_id) is not None
        assert len(session.exec(sa.select(SyncRun.id)).all()) == 1  # type: ignore[call-overload]
    lock.release(sqlite_engine, lease)
    again = lock.acquire(sqlite_engine, profile_id, SyncRun(profile_id=profile_id), NOW)
    assert again.taken_over_run is None


def test_a_stale_lock_is_taken_over_and_its_run_marked_interrupted(sqlite_engine: sa.Engine) -> None:
    profile_id = bare_profile(sqlite_engine)
    first = lock.acquire(sqlite_engine, profile_id, SyncRun(profile_id=profile_id), NOW)
    assert lock.heartbeat(sqlite_engine, first, NOW + timedelta(seconds=10))
    later = NOW + timedelta(seconds=10 + lock.DEFAULT_STALE_AFTER_S + 1)
    second = lock.acquire(sqlite_engine, profile_id, SyncRun(profile_id=profile_id), later)
    assert second.taken_over_run == first.run_id
    with session_scope(sqlite_engine) as session:
        old = session.get(SyncRun, first.run_id)
        new = session.get(SyncRun, second.run_id)
    assert old is not None
    assert new is not None
    assert (old.status, new.status) == (RunStatus.INTERRUPTED, RunStatus.RUNNING)
    assert not lock.heartbeat(sqlite_engine, first, later)  # the old holder learns it lost the lock


def test_cursor_window_overlap_and_cap() -> None:
    assert window_start("2026-07-01T10:00:00+0100", 300) == "2026-07-01T09:55:00+0100"
    assert window_start(None, 300) is None
    tracker = CursorTracker(cap=datetime(2026, 7, 1, 12, 0, tzinfo=UTC), time_zone="Europe/London")
    tracker.observe("2026-07-01T10:00:00+0100")
    tracker.observe("2026-07-01T09:00:00+0100")
    assert tracker.value() == "2026-07-01T10:00:00+0100"
    tracker.observe("2026-07-01T14:00:00+0100")  # modified during the run: never past the run's start
    assert tracker.value() == "2026-07-01T13:00:00+0100"


def test_cursor_never_moves_backwards(sqlite_engine: sa.Engine) -> None:
    profile_id = bare_profile(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        save_cursor(session, profile_id, "bills", "2026-07-01T10:00:00+0100", NOW, full_sweep=True)
    with session_scope(sqlite_engine) as session:
        save_cursor(session, profile_id, "bills", "2026-06-01T10:00:00+0100", NOW)
    with session_scope(sqlite_engine) as session:
        row = read_cursor(session, profile_id, "bills")
    assert row is not None
    assert (row.cursor_value, row.last_full_sweep_at) == ("2026-07-01T10:00:00+0100", NOW)
