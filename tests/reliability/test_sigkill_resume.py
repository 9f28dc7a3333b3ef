"""SIGKILL the sync process at seeded random points of a 1,000-bill run and resume each time.

Kill points are chosen by progress, not by wall time: each point is a number of audit rows; the child is
killed (SIGKILL, no cleanup) a random few milliseconds after the audit log reached it, so kills land between
an audit row's commit and its ServiceNow write, mid-staging, mid-detail-fetch and at every other place.
After the last kill a run is left to finish; then ServiceNow must hold every good bill exactly once (invoice,
lines, payments), nothing else, with the same total as Zoho, and the audit log must agree.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.core.engine.crash_child import endpoints_to_json
from tests.core.engine.harness import create_profile
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditAttempt, AuditRecord, SyncRun
from zbsn.core.domain import RunStatus

from .checks import assert_exactly_once
from .conftest import World

REPO = Path(__file__).resolve().parents[2]


def _audit_rows(db: sa.Engine) -> int:
    with session_scope(db) as session:
        return int(session.exec(select(func.count()).select_from(AuditRecord)).one())


def _spawn(db_url: str, payload: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.engine.crash_child", db_url, payload],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_and_resume(
    world: World, db_url: str, db: sa.Engine, kills: int, seed: int, expected_rows: int
) -> list[int]:
    """Run, SIGKILL at `kills` progress points, resume each time, then finish; returns the kill points."""
    payload = endpoints_to_json(world.endpoints, create_profile(db, world.endpoints))
    rng = random.Random(seed)
    # progress points over the whole run (0 = during start-up and master alignment)
    points = sorted(rng.randrange(0, expected_rows) for _ in range(kills))
    landed: list[int] = []
    for point in points:
        child = _spawn(db_url, payload)
        while child.poll() is None and _audit_rows(db) < point:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.08) if point else rng.uniform(0.3, 1.5))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            landed.append(_audit_rows(db))
        child.communicate(timeout=60)
    final = _spawn(db_url, payload)
    out, err = final.communicate(timeout=600)
    assert final.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["status"] == RunStatus.COMPLETED_WITH_FAILURES
    return landed


def _check_runs(db: sa.Engine, kills: int) -> None:
    with session_scope(db) as session:
        runs = session.exec(select(SyncRun).order_by(col(SyncRun.id))).all()
        interrupted = [r.id for r in runs if r.status == RunStatus.INTERRUPTED]
        mid_write = session.exec(
            select(func.count()).select_from(AuditAttempt).where(col(AuditAttempt.run_id).in_(interrupted))
        ).one()
    assert RunStatus.RUNNING not in [r.status for r in runs]  # every killed run was found and marked
    assert runs[-1].status == RunStatus.COMPLETED_WITH_FAILURES
    assert len(interrupted) >= kills * 3 // 4  # (a kill can land on a run that just finished)
    assert mid_write > 0


def run_case(world: World, db_url: str, db: sa.Engine, *, bills: int, kills: int, seed: int) -> None:
    # audit rows a complete run of this company writes (suppliers + bills + payments), from a dry count:
    # ~1.47 rows per bill for the seeded company; the points only need to spread over the run
    landed = kill_and_resume(world, db_url, db, kills, seed, expected_rows=int(bills * 1.45))
    assert len(landed) >= kills * 3 // 4, landed
    _check_runs(db, kills)
    figures = assert_exactly_once(world, db)
    print(f"\nSIGKILL x{len(landed)} of {kills} at audit rows {landed}; after resume: {figures}")


def test_sigkill_20_times_in_1000_bills(
    world: Callable[[int], World], sqlite_db: tuple[str, sa.Engine]
) -> None:
    """The full figure (about a minute on 2 cores, so it runs in CI)."""
    url, db = sqlite_db
    run_case(world(1000), url, db, bills=1000, kills=20, seed=int(os.environ.get("ZBSN_CRASH_SEED", "21")))


@pytest.fixture
def postgres_db() -> Iterator[tuple[str, sa.Engine]]:
    """A migrated PostgreSQL database of its own (URL and engine)."""
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    for url in _fresh_postgres_database():
        engine = make_engine(url)
        migrate.upgrade(engine)
        yield url, engine
        engine.dispose()


@pytest.mark.postgres
def test_sigkill_20_times_in_1000_bills_on_postgres(
    world: Callable[[int], World], postgres_db: tuple[str, sa.Engine]
) -> None:
    """The same figure on PostgreSQL: the killed process's connections die with it mid-transaction (the
    server rolls them back), its run lock and leases stay behind for the next run to take over."""
    url, db = postgres_db
    run_case(world(1000), url, db, bills=1000, kills=20, seed=int(os.environ.get("ZBSN_CRASH_SEED", "21")))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [101, 202, 303])
def test_sigkill_more_seeds(
    world: Callable[[int], World], sqlite_db: tuple[str, sa.Engine], seed: int
) -> None:
    """Long run: 30 kills of a 1,000-bill run under three more seeds."""
    url, db = sqlite_db
    run_case(world(1000), url, db, bills=1000, kills=30, seed=seed)
