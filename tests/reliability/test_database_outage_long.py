"""A database outage longer than the engine's connect wait: the run ends cleanly, the next run takes over.

PostgreSQL refuses connections (and its backends are killed) right after a batch reached ServiceNow, before
its outcome is in the audit log, and stays down until the run has returned. The connect wait is shrunk from
30 s to 1 s (`make_engine(connect_wait_s=...)`), so the outage outlasts it several times over. The run must
return (no exception) as failed with a clear "database is unreachable" message; nothing may say `staged`
without its ServiceNow record; the rows of the cut batch stay pending. Once the database is back, the next
run in the same process takes the lock over at once (no 90 s stale wait), records the first run's outcome
on its row, resends what was left pending and stages everything exactly once.

The lock rules around it (SQLite): a lock held by a process that is gone is taken over at once; a lock held
by a live run of this very process is still refused.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.core.engine.harness import create_profile
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditRecord, RunLock, SyncRun
from zbsn.core.domain import AuditStatus, RunStatus
from zbsn.core.engine import lock
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.models import StagingOutcome, StagingRow

from .checks import assert_exactly_once
from .conftest import Clients, World

BILLS = 150
CONNECT_WAIT_S = 1.0


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database()


def _staged_without_record(world: World, db: sa.Engine) -> list[str]:
    sys_ids = {r["sys_id"] for r in world.servicenow.table("sn_shop_invoice")}
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.status == AuditStatus.STAGED)).all()
    return [r.zoho_id for r in rows if r.kind == "bill" and r.sn_sys_id not in sys_ids]


@pytest.mark.postgres
def test_outage_longer_than_the_connect_wait(world: Callable[[int], World], pg_url: str) -> None:
    assert POSTGRES_URL is not None
    w = world(BILLS)
    db = make_engine(pg_url, connect_wait_s=CONNECT_WAIT_S)
    migrate.upgrade(db)
    profile = create_profile(db, w.endpoints)
    name = sa.make_url(pg_url).database
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    down, restore, up = threading.Event(), threading.Event(), threading.Event()

    def outage() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            down.set()
            restore.wait(120)  # down until the run has returned (a safety bound only)
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            up.set()

    stage = ServiceNowClient.stage
    calls = 0

    async def stage_then_cut(self: ServiceNowClient, rows: Sequence[StagingRow]) -> list[StagingOutcome]:
        nonlocal calls
        outcomes = await stage(self, rows)
        calls += 1
        if calls == 3:  # the batch is in ServiceNow, its audit rows still pending: the database goes down
            threading.Thread(target=outage, daemon=True).start()
            assert down.wait(10)
        return outcomes

    try:
        began = time.monotonic()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ServiceNowClient, "stage", stage_then_cut)
            first = asyncio.run(Clients(w.endpoints).runner(db, batch_size=20).run(profile))
        ended = time.monotonic() - began
        assert down.is_set()
        assert not up.is_set()  # the run returned while the database was still down
        restore.set()
        assert up.wait(10)
        print(f"\nrun during the outage: {first.status} after {ended:.1f}s: {first.message}")
        assert first.status == RunStatus.FAILED
        assert first.message is not None
        assert "database is unreachable" in first.message
        assert "could not be recorded" in first.message
        assert _staged_without_record(w, db) == []
        with session_scope(db) as session:
            row = session.get(SyncRun, first.run_id)
            held = session.get(RunLock, profile)
            pending = session.exec(select(AuditRecord).where(AuditRecord.status == AuditStatus.PENDING)).all()
        assert row is not None
        assert row.status == RunStatus.RUNNING  # what the outage left: the run could not write its end
        assert held is not None
        assert held.run_id == first.run_id  # ... nor drop its lock
        print(f"left behind: lock of run {held.run_id}, {len(pending)} pending audit row(s)")
        assert pending  # the batch written to ServiceNow whose outcome the outage kept from the audit log
        invoices = {r["external_invoice_number"] for r in w.servicenow.table("sn_shop_invoice")}
        assert {r.external_key for r in pending if r.kind == "bill"} <= invoices

        second = asyncio.run(Clients(w.endpoints).runner(db, batch_size=20).run(profile))
        assert second.status == RunStatus.COMPLETED_WITH_FAILURES, second.message  # the seeded broken bills
        with session_scope(db) as session:
            row = session.get(SyncRun, first.run_id)
            assert session.get(RunLock, profile) is None  # the second run released its lock
        assert row is not None
        assert row.status == RunStatus.FAILED  # the first run's outcome, recorded by the takeover
        assert row.message == first.message
        assert_exactly_once(w, db)
    finally:
        restore.set()
        db.dispose()
        admin.dispose()


def _plant_lock(db: sa.Engine, profile: int, holder: str) -> int:
    now = datetime.now(UTC)
    with session_scope(db) as session:
        run = SyncRun(profile_id=profile, trigger="manual", mode="changed", started_at=now, heartbeat_at=now)
        session.add(run)
        session.flush()
        assert run.id is not None
        session.add(
            RunLock(profile_id=profile, run_id=run.id, holder=holder, acquired_at=now, heartbeat_at=now)
        )
        return run.id


def test_lock_of_a_gone_process_is_taken_at_once_but_a_live_one_is_not(
    world: Callable[[int], World], sqlite_db: tuple[str, sa.Engine]
) -> None:
    w = world(20)
    _url, db = sqlite_db
    profile = create_profile(db, w.endpoints)
    runner = Clients(w.endpoints).runner(db)

    live = _plant_lock(db, profile, lock.holder_id())  # a run of this process, heartbeat fresh
    with pytest.raises(lock.RunLocked):
        asyncio.run(runner.run(profile))
    with session_scope(db) as session:
        session.execute(sa.delete(RunLock))
        session.get(SyncRun, live).status = RunStatus.FAILED  # type: ignore[union-attr]

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    host = lock.holder_id().rpartition(":")[0]
    dead = _plant_lock(db, profile, f"{host}:{int(gone.stdout)}")  # heartbeat fresh, process gone
    summary = asyncio.run(runner.run(profile))
    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES, summary.message
    with session_scope(db) as session:
        old = session.get(SyncRun, dead)
    assert old is not None
    assert old.status == RunStatus.INTERRUPTED
