"""start_demo: both sandboxes connected through the real OAuth flows; a run stages bills; the story's fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.sandbox.demo import DemoHandle, start_demo


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoHandle]:
    handle = start_demo(f"sqlite:///{tmp_path / 'demo.db'}", seed=7, bills=60, rate_window_s=2.0)
    yield handle
    handle.stop()


def _bill_counts(handle: DemoHandle) -> dict[str, int]:
    with Session(handle.db_engine) as session:
        rows = session.exec(
            select(AuditRecord.status, func.count())
            .where(AuditRecord.kind == RecordKind.BILL)
            .group_by(col(AuditRecord.status))
        ).all()
    return {status: int(count) for status, count in rows}


def test_demo_connects_both_systems_through_oauth(demo: DemoHandle) -> None:
    oauth = demo.zoho.counters()
    assert any(key.startswith("authorization_code:ok") for key in oauth.get("oauth", {})), oauth.get("oauth")
    statuses = {status.system: status for status in demo.workspace.token_statuses(demo.profile_id)}
    assert statuses["zoho"].state == "ok"
    assert statuses["servicenow"].state == "ok"
    profile = demo.workspace.get_profile(demo.profile_id)
    assert profile.organization_id == demo.organization_id
    assert profile.instance_url == demo.servicenow_url
    assert demo.missing_cost_centers()  # the story needs something to fix


async def test_demo_run_stages_bills_and_the_fix_replays(demo: DemoHandle) -> None:
    summary = await demo.workspace.engine_service().run(demo.profile_id, mode="full")
    assert summary.staged > 0, summary
    counts = _bill_counts(demo)
    assert counts.get(AuditStatus.STAGED, 0) > 0
    assert len(demo.servicenow.table("sn_shop_invoice")) >= counts[AuditStatus.STAGED]
    created = demo.create_all_missing_cost_centers()
    assert created
    assert demo.missing_cost_centers() == []


async def test_a_due_schedule_starts_an_engine_run(demo: DemoHandle) -> None:
    from datetime import datetime, timedelta

    from zbsn.core.db.models import SyncRun
    from zbsn.core.domain import RunTrigger
    from zbsn.core.scheduling import Scheduler
    from zbsn.core.scheduling import ScheduleService as Schedules

    class ManualClock:
        def __init__(self) -> None:
            self.current = demo.workspace.clock.now()

        def now(self) -> datetime:
            return self.current

        def monotonic(self) -> float:
            return self.current.timestamp()

    clock = ManualClock()
    schedules = Schedules(demo.db_engine, clock)
    schedules.add(demo.profile_id, "*/5 * * * *", mode="full")
    engine = demo.workspace.engine_service()

    async def start_run(profile_id: int, mode: str) -> str:
        summary = await engine.run(profile_id, mode=mode, trigger=RunTrigger.SCHEDULE)
        return summary.status

    scheduler = Scheduler(schedules, start_run, clock=clock)
    assert await scheduler.tick() == []
    clock.current += timedelta(minutes=5)
    tasks = await scheduler.tick()
    assert len(tasks) == 1
    await tasks[0]
    with Session(demo.db_engine) as session:
        runs = session.exec(select(SyncRun)).all()
    assert [(run.trigger, run.mode) for run in runs] == [("schedule", "full")]
    assert runs[0].staged > 0


def test_demo_without_db_uses_a_temp_dir_and_removes_it(zbsn_home: Path) -> None:
    with start_demo(bills=20, webhooks=False) as handle:
        data_dir = handle.data_dir
        assert data_dir is not None
        assert (data_dir / "demo.db").exists()
        assert handle.workspace.get_profile(handle.profile_id).organization_id == handle.organization_id
    assert not data_dir.exists()
    assert not (zbsn_home / "config" / "master.key").exists()  # the temp demo's key stays in memory
