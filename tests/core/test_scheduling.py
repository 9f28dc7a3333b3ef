"""Schedules: validation with clear errors, next runs, plain-words descriptions, and the scheduler loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from zbsn.core.scheduling import (
    ScheduleError,
    Scheduler,
    ScheduleService,
    describe_cron,
    next_runs,
    normalize_cron,
)


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.current.timestamp()

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


START = datetime(2025, 3, 3, 8, 59, 30, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "empty"),
        ("* * * *", "has 4"),
        ("61 * * * *", "minute field '61'"),
        ("0 25 * * *", "hour field '25'"),
        ("0 0 * 13 *", "month field '13'"),
        ("0 0 * * MONDAYS", "day of week field"),
    ],
)
def test_invalid_cron_says_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        normalize_cron(expression)


def test_aliases_and_whitespace_normalize() -> None:
    assert normalize_cron("@daily") == "0 0 * * *"
    assert normalize_cron("  */15   *  * * 1-5 ") == "*/15 * * * 1-5"


def test_next_runs() -> None:
    runs = next_runs("0 9 * * 1-5", 3, after=START)
    assert runs == [
        datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
        datetime(2025, 3, 4, 9, 0, tzinfo=UTC),
        datetime(2025, 3, 5, 9, 0, tzinfo=UTC),
    ]


def test_description_in_plain_words() -> None:
    assert describe_cron("*/15 * * * *") == "Every 15 minutes"
    assert "09:00" in describe_cron("0 9 * * 1-5")
    assert "Monday through Friday" in describe_cron("0 9 * * 1-5")


def test_service_crud(engine: sa.Engine, profile_id: int) -> None:
    service = ScheduleService(engine, ManualClock(START))
    created = service.add(profile_id, "0 9 * * 1-5")
    assert created.next_run_at == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert "Monday through Friday" in created.name
    edited = service.edit(created.id, cron="@hourly", mode="full")
    assert (edited.cron, edited.mode, edited.next_run_at) == (
        "0 * * * *",
        "full",
        datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
    )
    assert service.disable(created.id).next_run_at is None
    assert service.enable(created.id).enabled
    with pytest.raises(ScheduleError, match="run mode"):
        service.edit(created.id, mode="sometimes")
    with pytest.raises(ScheduleError, match="no profile"):
        service.add(987654, "@daily")
    service.delete(created.id)
    assert service.list_schedules() == []


async def test_scheduler_starts_a_due_run_once(engine: sa.Engine, profile_id: int) -> None:
    clock = ManualClock(START)
    service = ScheduleService(engine, clock)
    schedule = service.add(profile_id, "*/5 * * * *", mode="changed")
    started: list[tuple[int, str]] = []
    release = asyncio.Event()

    async def start_run(pid: int, mode: str) -> str:
        started.append((pid, mode))
        await release.wait()
        return "succeeded"

    scheduler = Scheduler(service, start_run, clock=clock)
    assert await scheduler.tick() == []  # 08:59:30: nothing due yet
    clock.advance(31)  # 09:00:01
    tasks = await scheduler.tick()
    assert len(tasks) == 1
    await asyncio.sleep(0)
    assert started == [(profile_id, "changed")]
    view = service.get(schedule.id)
    assert view.last_run_at == clock.now()
    assert view.next_run_at == datetime(2025, 3, 3, 9, 5, tzinfo=UTC)

    clock.advance(300)  # 09:05:01, the first run still going: this occurrence is skipped
    assert await scheduler.tick() == []
    assert "in progress" in scheduler.last_outcome[schedule.id]
    release.set()
    await asyncio.gather(*tasks)
    assert scheduler.last_outcome[schedule.id] == "ran: succeeded"
    assert len(started) == 1


async def test_scheduler_loop_stops_gracefully(engine: sa.Engine, profile_id: int) -> None:
    clock = ManualClock(START + timedelta(seconds=31))
    service = ScheduleService(engine, ManualClock(START))
    service.add(profile_id, "0 9 * * *")
    ran = asyncio.Event()

    async def start_run(_pid: int, _mode: str) -> str:
        ran.set()
        return "ok"

    scheduler = Scheduler(service, start_run, clock=clock, max_sleep_seconds=0.05)
    service.clock = clock
    stop = asyncio.Event()
    loop_task = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(ran.wait(), 5)
    stop.set()
    await asyncio.wait_for(loop_task, 5)
    assert scheduler.started_runs == 1
