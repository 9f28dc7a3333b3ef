"""Cron schedules per profile (the `schedule` table) and the asyncio loop that starts their runs.

Cron expressions have the five classic fields (minute hour day-of-month month day-of-week) or one of the
`@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly` aliases, evaluated in the scheduler's time zone (UTC unless
told otherwise). Times stored in the table are UTC.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa
from croniter import croniter
from sqlmodel import col, select

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Schedule, SyncProfile
from zbsn.core.db.transient import retried

log = logging.getLogger(__name__)

FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
FIELD_RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-6 or SUN-SAT")
RUN_MODES = ("changed", "full")


class ScheduleError(ValueError):
    """A schedule that cannot be saved; the message says what to fix."""


def normalize_cron(expression: str) -> str:
    """The five-field form of `expression`, or ScheduleError with a message an operator can act on."""
    text = " ".join(expression.split())
    if not text:
        raise ScheduleError("The cron expression is empty. Example: '0 6 * * 1-5' (06:00 on weekdays).")
    if text.startswith("@"):
        text = _expand_alias(text)
    fields = text.split(" ")
    if len(fields) != 5:
        raise ScheduleError(
            f"A cron expression has 5 fields (minute hour day-of-month month day-of-week); "
            f"'{expression}' has {len(fields)}. Example: '*/30 * * * *' (every 30 minutes)."
        )
    for index, value in enumerate(fields):
        probe = ["*"] * 5
        probe[index] = value
        if not croniter.is_valid(" ".join(probe)):
            raise ScheduleError(
                f"The {FIELD_NAMES[index]} field '{value}' is not valid (allowed: {FIELD_RANGES[index]}, "
                f"lists a,b, ranges a-b, steps */n)."
            )
    if not croniter.is_valid(text):
        raise ScheduleError(f"'{expression}' is not a valid cron expression.")
    return text


def _expand_alias(text: str) -> str:
    """'@daily' -> '0 0 * * *': croniter knows the aliases; five fields are what is stored and described."""
    try:
        fields, _ = croniter.expand(text.lower())
    except (ValueError, KeyError) as exc:
        raise ScheduleError(
            f"'{text}' is not a cron alias croniter knows (@hourly, @daily, @weekly, @monthly, @yearly)."
        ) from exc
    return " ".join(",".join(str(value) for value in field) for field in fields[:5])


def next_runs(
    expression: str, count: int = 5, after: datetime | None = None, tz: tzinfo = UTC
) -> list[datetime]:
    """The next `count` run times (UTC) of `expression` after `after` (default now)."""
    cron = normalize_cron(expression)
    start = (after or datetime.now(UTC)).astimezone(tz)
    iterator = croniter(cron, start)
    return [iterator.get_next(datetime).astimezone(UTC) for _ in range(count)]


def describe_cron(expression: str) -> str:
    """The expression in plain words, e.g. 'Every 15 minutes, Monday through Friday'."""
    cron = normalize_cron(expression)
    try:
        from cron_descriptor import Options, get_description  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the dependency is declared; this keeps a describer anyway
        return _describe_simple(cron)
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    return str(get_description(cron, options))


def _describe_simple(cron: str) -> str:
    minute, hour, dom, month, dow = cron.split(" ")
    if cron == "* * * * *":
        return "Every minute"
    if minute.startswith("*/") and hour == dom == month == dow == "*":
        return f"Every {minute[2:]} minutes"
    if minute.isdigit() and hour.isdigit() and dom == month == "*":
        days = "every day" if dow == "*" else f"on day-of-week {dow}"
        return f"At {int(hour):02d}:{int(minute):02d}, {days}"
    return f"Cron '{cron}'"


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule as the TUI and CLI list it."""

    id: int
    profile_id: int
    name: str
    cron: str
    mode: str
    enabled: bool
    description: str
    last_run_at: datetime | None
    next_run_at: datetime | None


class ScheduleService:
    """Add, edit, enable/disable, delete and list schedules; keeps `next_run_at` right."""

    def __init__(self, db_engine: sa.Engine, clock: Clock | None = None, tz: tzinfo = UTC) -> None:
        self.db_engine = db_engine
        self.clock: Clock = clock or SystemClock()
        self.tz = tz

    def add(
        self, profile_id: int, cron: str, *, name: str | None = None, mode: str = "changed"
    ) -> ScheduleView:
        """Create an enabled schedule; raises ScheduleError for a bad cron, mode or profile."""
        expression = normalize_cron(cron)
        _check_mode(mode)
        with session_scope(self.db_engine) as session:
            if session.get(SyncProfile, profile_id) is None:
                raise ScheduleError(f"There is no profile {profile_id}.")
            row = Schedule(
                profile_id=profile_id,
                name=name or describe_cron(expression),
                cron=expression,
                mode=mode,
                enabled=True,
                next_run_at=self._next(expression),
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            return self._view(row)

    def edit(
        self, schedule_id: int, *, cron: str | None = None, name: str | None = None, mode: str | None = None
    ) -> ScheduleView:
        """Change a schedule's cron, name or mode."""
        with session_scope(self.db_engine) as session:
            row = self._get(session.get(Schedule, schedule_id), schedule_id)
            if cron is not None:
                row.cron = normalize_cron(cron)
                row.next_run_at = self._next(row.cron) if row.enabled else None
            if mode is not None:
                _check_mode(mode)
                row.mode = mode
            if name is not None:
                row.name = name
            session.add(row)
            return self._view(row)

    def set_enabled(self, schedule_id: int, enabled: bool) -> ScheduleView:
        """Enable (computing the next run) or disable (clearing it) a schedule."""
        with session_scope(self.db_engine) as session:
            row = self._get(session.get(Schedule, schedule_id), schedule_id)
            row.enabled = enabled
            row.next_run_at = self._next(row.cron) if enabled else None
            session.add(row)
            return self._view(row)

    def enable(self, schedule_id: int) -> ScheduleView:
        return self.set_enabled(schedule_id, True)

    def disable(self, schedule_id: int) -> ScheduleView:
        return self.set_enabled(schedule_id, False)

    def delete(self, schedule_id: int) -> None:
        """Remove a schedule."""
        with session_scope(self.db_engine) as session:
            session.delete(self._get(session.get(Schedule, schedule_id), schedule_id))

    def list_schedules(self, profile_id: int | None = None) -> list[ScheduleView]:
        """Schedules, optionally of one profile."""
        with session_scope(self.db_engine) as session:
            query = select(Schedule).order_by(col(Schedule.id))
            if profile_id is not None:
                query = query.where(Schedule.profile_id == profile_id)
            return [self._view(row) for row in session.exec(query).all()]

    def get(self, schedule_id: int) -> ScheduleView:
        with session_scope(self.db_engine) as session:
            return self._view(self._get(session.get(Schedule, schedule_id), schedule_id))

    def preview(self, cron: str, count: int = 5) -> tuple[str, list[datetime]]:
        """Plain words and the next `count` run times, for the edit form."""
        return describe_cron(cron), next_runs(cron, count, self.clock.now(), self.tz)

    @retried
    def claim_due(self) -> list[ScheduleView]:
        """Due schedules, each moved on to its next run time before being returned (a crash never loops)."""
        now = self.clock.now()
        with session_scope(self.db_engine) as session:
            rows = session.exec(
                select(Schedule)
                .where(col(Schedule.enabled).is_(True))
                .where(col(Schedule.next_run_at).is_not(None))
                .where(col(Schedule.next_run_at) <= now)
                .order_by(col(Schedule.next_run_at))
                # two claimers at once (workers' ticks on PostgreSQL) never both take a schedule
                .with_for_update(skip_locked=True)
            ).all()
            due = []
            for row in rows:
                due.append(self._view(row))
                row.last_run_at = now
                row.next_run_at = self._next(row.cron)
                session.add(row)
            return due

    @retried
    def next_due_at(self) -> datetime | None:
        """The earliest next run of any enabled schedule."""
        with session_scope(self.db_engine) as session:
            return session.exec(
                select(Schedule.next_run_at)
                .where(col(Schedule.enabled).is_(True))
                .where(col(Schedule.next_run_at).is_not(None))
                .order_by(col(Schedule.next_run_at))
            ).first()

    def _next(self, cron: str) -> datetime:
        return next_runs(cron, 1, self.clock.now(), self.tz)[0]

    def _get(self, row: Schedule | None, schedule_id: int) -> Schedule:
        if row is None:
            raise ScheduleError(f"There is no schedule {schedule_id}.")
        return row

    def _view(self, row: Schedule) -> ScheduleView:
        assert row.id is not None
        return ScheduleView(
            id=row.id,
            profile_id=row.profile_id,
            name=row.name,
            cron=row.cron,
            mode=row.mode,
            enabled=row.enabled,
            description=describe_cron(row.cron),
            last_run_at=row.last_run_at,
            next_run_at=row.next_run_at,
        )


def _check_mode(mode: str) -> None:
    if mode not in RUN_MODES:
        raise ScheduleError(f"The run mode must be one of {', '.join(RUN_MODES)}, not '{mode}'.")


RunStarter = Callable[[int, str], Awaitable[object]]
"""`(profile_id, mode)`: start one scheduled run and wait for it (the engine's run with trigger=schedule)."""


class Scheduler:
    """An asyncio loop that starts due runs; a profile whose run is still going is skipped this time."""

    def __init__(
        self,
        schedules: ScheduleService,
        start_run: RunStarter,
        *,
        clock: Clock | None = None,
        max_sleep_seconds: float = 30.0,
    ) -> None:
        self.schedules = schedules
        self.start_run = start_run
        self.clock: Clock = clock or schedules.clock
        self.max_sleep_seconds = max_sleep_seconds
        self.running: dict[int, asyncio.Task[object]] = {}  # profile_id -> its scheduled run
        self.last_outcome: dict[int, str] = {}  # schedule_id -> what happened last time
        self.started_runs = 0

    async def tick(self) -> list[asyncio.Task[object]]:
        """Start every due schedule's run (as tasks); returns the tasks started."""
        started: list[asyncio.Task[object]] = []
        for schedule in await asyncio.to_thread(self.schedules.claim_due):
            current = self.running.get(schedule.profile_id)
            if current is not None and not current.done():
                self.last_outcome[schedule.id] = "skipped: a run of this profile is in progress"
                continue
            task = asyncio.create_task(self._run(schedule))
            self.running[schedule.profile_id] = task
            self.started_runs += 1
            started.append(task)
        return started

    async def _run(self, schedule: ScheduleView) -> object:
        try:
            result = await self.start_run(schedule.profile_id, schedule.mode)
        except Exception as exc:
            self.last_outcome[schedule.id] = f"failed: {type(exc).__name__}: {exc}"
            log.warning("scheduled run of profile %s failed: %s", schedule.profile_id, exc)
            return None
        self.last_outcome[schedule.id] = f"ran: {result}"
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, sleeping until the next due time (at most `max_sleep_seconds`)."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            due = await asyncio.to_thread(self.schedules.next_due_at)
            wait = self.max_sleep_seconds
            if due is not None:
                wait = min(wait, max(0.2, (due - self.clock.now()).total_seconds()))
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                continue
        await self.wait_running()

    async def wait_running(self) -> None:
        """Wait for the scheduled runs still going (graceful shutdown)."""
        tasks = [task for task in self.running.values() if not task.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
