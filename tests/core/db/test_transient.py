"""Which database errors are transient, and a transaction run again after one, within the outage window.

The errors are the real drivers' own: SQLite busy past its timeout, a PostgreSQL backend terminated by an
administrator, a serialization failure between two real transactions.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, outage_window, session_scope, set_outage_window
from zbsn.core.db.models import Schedule
from zbsn.core.db.transient import describe, is_transient, retried, transaction
from zbsn.core.scheduling import ScheduleService

from ..engine.harness import bare_profile


def _busy_error(path: Path) -> DBAPIError:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    except DBAPIError as exc:
        return exc
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    raise AssertionError("the write did not wait on the held lock")


def test_sqlite_busy_is_transient_and_a_constraint_is_not(tmp_path: Path) -> None:
    busy = _busy_error(tmp_path / "busy.db")
    assert is_transient(busy)
    assert describe(busy) == "OperationalError: database is locked"
    engine = make_engine(f"sqlite:///{tmp_path / 'z.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE u (x INTEGER UNIQUE)")
        conn.exec_driver_sql("INSERT INTO u VALUES (1)")
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO u VALUES (1)")
    assert not is_transient(caught.value)
    assert not is_transient(ValueError("no database error"))
    engine.dispose()


def test_a_transaction_waits_out_a_busy_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    engine = make_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 0.05})
    migrate.upgrade(engine)
    profile = bare_profile(engine)
    with engine.connect() as conn:  # the pragma of make_engine would wait 30 s; this file gives up fast
        conn.exec_driver_sql("PRAGMA busy_timeout=50")
    engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.6, lambda: holder.execute("ROLLBACK"))
    tries: list[float] = []

    def add(session: Session) -> int:
        tries.append(time.monotonic())
        session.connection().exec_driver_sql("PRAGMA busy_timeout=50")
        row = Schedule(profile_id=profile, name="n", cron="* * * * *", mode="changed")
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id

    released.start()
    try:
        schedule_id = transaction(engine, add)
    finally:
        released.join()
        holder.close()
    assert len(tries) >= 2  # refused while the file was held, then run again
    with session_scope(engine) as session:
        assert session.exec(select(Schedule.id)).all() == [schedule_id]  # written once
    engine.dispose()


def test_the_window_bounds_the_retries(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    engine = make_engine(f"sqlite:///{path}", outage_wait_s=0.4)
    assert outage_window(engine) == 0.4
    busy = _busy_error(tmp_path / "other.db")
    calls: list[int] = []

    def always_busy(session: Session) -> None:
        calls.append(1)
        raise busy

    began = time.monotonic()
    with pytest.raises(DBAPIError):
        transaction(engine, always_busy)
    assert 0.3 <= time.monotonic() - began < 5
    assert len(calls) >= 2
    set_outage_window(engine, 0)  # no window: one attempt only
    calls.clear()
    with pytest.raises(DBAPIError):
        transaction(engine, always_busy)
    assert calls == [1]
    engine.dispose()


def test_retried_needs_an_engine_in_its_arguments() -> None:
    @retried
    def no_engine(value: int) -> int:
        return value

    with pytest.raises(TypeError, match="no database engine"):
        no_engine(1)


@pytest.fixture
def pg() -> Iterator[sa.Engine]:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    for url in _fresh_postgres_database():
        engine = make_engine(url)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()


def _kill_next_statement(engine: sa.Engine, starting: str) -> list[str]:
    """Terminate the backend of the connection about to run the first statement starting with `starting`."""
    killed: list[str] = []
    admin = sa.create_engine(str(POSTGRES_URL), isolation_level="AUTOCOMMIT")

    def kill(conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if killed or not statement.startswith(starting):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            while other.execute(sa.text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
                time.sleep(0.01)
        killed.append(starting)

    sa.event.listen(engine, "before_cursor_execute", kill)
    return killed


@pytest.mark.postgres
def test_a_terminated_backend_is_transient_and_the_transaction_runs_again(pg: sa.Engine) -> None:
    profile = bare_profile(pg)
    schedules = ScheduleService(pg)
    view = schedules.add(profile, "*/5 * * * *")
    with session_scope(pg) as session:
        session.get(Schedule, view.id).next_run_at = view.next_run_at.replace(year=2000)  # type: ignore[union-attr]
    killed = _kill_next_statement(pg, "UPDATE schedule")
    due = schedules.claim_due()  # @retried: the terminated connection is replaced, the transaction re-run
    assert killed == ["UPDATE schedule"]
    assert [d.id for d in due] == [view.id]
    assert schedules.claim_due() == []  # the first (re-run) claim moved it on, once


@pytest.mark.postgres
def test_a_serialization_failure_is_transient(pg: sa.Engine) -> None:
    profile = bare_profile(pg)
    ScheduleService(pg).add(profile, "*/5 * * * *")
    first = pg.connect().execution_options(isolation_level="SERIALIZABLE")
    second = pg.connect().execution_options(isolation_level="SERIALIZABLE")
    try:
        first.begin()
        second.begin()
        first.execute(sa.text("SELECT count(*) FROM schedule")).scalar()
        second.execute(sa.text("SELECT count(*) FROM schedule")).scalar()
        first.execute(sa.text("UPDATE schedule SET name = 'a'"))
        first.commit()
        with pytest.raises(DBAPIError) as caught:
            second.execute(sa.text("UPDATE schedule SET name = 'b'"))
        assert is_transient(caught.value)
        assert describe(caught.value).startswith("SerializationFailure: ")
    finally:
        first.close()
        second.close()
