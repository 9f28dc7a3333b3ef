"""Crash test: SIGKILL the sync process at random points, resume, and find no duplicate and no gap."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditAttempt, AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus, RunStatus

from .conftest import BILLS, Sandboxes, company
from .crash_child import endpoints_to_json
from .expectations import Expected, key
from .harness import create_profile

REPO = Path(__file__).resolve().parents[3]


def _spawn(db_url: str, payload: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.engine.crash_child", db_url, payload],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _audit_rows(db: sa.Engine) -> int:
    with session_scope(db) as session:
        return int(session.exec(select(func.count()).select_from(AuditRecord)).one())


def crash_and_resume(live: Sandboxes, tmp_path: Path, kills: int, seed: int) -> sa.Engine:
    """Run, SIGKILL at `kills` seeded progress points, resume each time, then let a run finish.

    A point is a number of audit rows, not a wall time (how far a run gets in a second depends on the
    machine): the child is killed a random few milliseconds after the audit log reached it, so the first
    kill always lands mid-staging and later ones anywhere, start-up included (the resumed run begins with
    the earlier runs' rows already there).
    """
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    db = make_engine(db_url)
    migrate.upgrade(db)
    payload = endpoints_to_json(live.endpoints, create_profile(db, live.endpoints))
    rng = random.Random(seed)
    points = sorted(rng.randrange(1, BILLS) for _ in range(kills))
    killed = 0
    for point in points:
        child = _spawn(db_url, payload)
        while child.poll() is None and _audit_rows(db) < point:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        child.communicate(timeout=30)
    final = _spawn(db_url, payload)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1])["status"] in ("succeeded", "completed_with_failures")
    assert killed >= 1
    return db


def assert_no_duplicate_no_gap(live: Sandboxes, db: sa.Engine) -> None:
    expected = Expected(company())
    numbers = Counter(r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice"))
    assert [n for n, c in numbers.items() if c > 1] == []
    assert set(numbers) == {key(b.bill_id) for b in expected.good_bills} | expected.credit_memo_numbers
    lines = Counter(
        (r["invoice"], r["erp_line_number"]) for r in live.servicenow.table("sn_shop_invoice_line")
    )
    assert max(lines.values()) == 1
    assert sum(lines.values()) == sum(len(b.lines) for b in expected.good_bills) + expected.credit_memo_lines
    details = Counter(
        r["payment_reference_id"] for r in live.servicenow.table("sn_shop_invoice_payment_detail")
    )
    assert max(details.values()) == 1
    with session_scope(db) as session:
        assert session.exec(select(AuditRecord).where(AuditRecord.status == AuditStatus.PENDING)).all() == []
        statuses = [r.status for r in session.exec(select(SyncRun).order_by(SyncRun.id))]  # type: ignore[arg-type]
        interrupted = [
            r.id for r in session.exec(select(SyncRun).where(SyncRun.status == RunStatus.INTERRUPTED))
        ]
        work_before_kill = session.exec(
            select(AuditAttempt).where(col(AuditAttempt.run_id).in_(interrupted))
        ).first()
    assert work_before_kill is not None  # at least one kill landed while records were being staged
    assert statuses[-1] in (RunStatus.SUCCEEDED, RunStatus.COMPLETED_WITH_FAILURES)
    assert RunStatus.RUNNING not in statuses  # every killed run was found and marked interrupted


def test_sigkill_at_random_points_then_resume(live: Sandboxes, tmp_path: Path) -> None:
    db = crash_and_resume(live, tmp_path, kills=3, seed=11)
    assert_no_duplicate_no_gap(live, db)


@pytest.mark.slow
def test_sigkill_many_times(live: Sandboxes, tmp_path: Path) -> None:
    db = crash_and_resume(live, tmp_path, kills=15, seed=int(os.environ.get("ZBSN_CRASH_SEED", "5")))
    assert_no_duplicate_no_gap(live, db)
