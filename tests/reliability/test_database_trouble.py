"""The database locked or unreachable for a while: the run waits or stops cleanly and never half-writes.

SQLite: another connection holds a write transaction (BEGIN IMMEDIATE) for 3 s in the middle of the run; the
engine's connections wait on `busy_timeout` and the run completes. PostgreSQL: mid-run the database refuses
connections and its backends are terminated for 2 s; the run must end (waiting it out or stopping as
failed), and after a resume no audit row says `staged` without its ServiceNow record and no ServiceNow record
lacks its audit row.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.core.engine.harness import create_profile
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.domain import RunStatus

from .checks import assert_exactly_once
from .conftest import Clients, World
from .test_reauthorise import trip_after

BILLS = 150


def test_sqlite_locked_by_another_writer(world: Callable[[int], World], tmp_path: Path) -> None:
    w = world(BILLS)
    path = tmp_path / "locked.db"
    db = make_engine(f"sqlite:///{path}")
    migrate.upgrade(db)
    profile = create_profile(db, w.endpoints)
    held = threading.Event()
    log: list[str] = []

    def hold_lock() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the write lock: every other writer must wait
        log.append("locked")
        held.set()
        time.sleep(3)
        conn.execute("ROLLBACK")
        log.append("released")
        conn.close()

    def lock_now() -> None:
        threading.Thread(target=hold_lock, daemon=True).start()
        assert held.wait(10)

    summary = asyncio.run(
        Clients(w.endpoints).runner(db, batch_size=20).run(profile, events=trip_after(30, lock_now))
    )
    assert log == ["locked", "released"]
    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES, summary.message
    assert_exactly_once(w, db)
    db.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database()


@pytest.mark.postgres
def test_postgres_unreachable_for_a_while(world: Callable[[int], World], pg_url: str) -> None:
    assert POSTGRES_URL is not None
    w = world(BILLS)
    db = make_engine(pg_url)
    migrate.upgrade(db)
    profile = create_profile(db, w.endpoints)
    name = sa.make_url(pg_url).database
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    log: list[str] = []

    def outage() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            log.append("down")
            time.sleep(2)
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            log.append("up")

    def cut_now() -> None:
        threading.Thread(target=outage, daemon=True).start()
        while not log:
            time.sleep(0.01)

    try:
        first = asyncio.run(
            Clients(w.endpoints).runner(db, batch_size=20).run(profile, events=trip_after(30, cut_now))
        )
        while len(log) < 2:
            time.sleep(0.05)
        print(f"\nduring the outage: {first.status} {first.message}")
        assert first.status == RunStatus.COMPLETED_WITH_FAILURES, first.message  # it waited the outage out
        assert_exactly_once(w, db)
        second = asyncio.run(Clients(w.endpoints).runner(db, batch_size=20).run(profile))
        assert second.status == RunStatus.SUCCEEDED, second.message  # the resume finds nothing left
        assert second.staged == 0
        assert_exactly_once(w, db)
    finally:
        db.dispose()
        admin.dispose()
