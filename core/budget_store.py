"""The Zoho budget every process of a deployment shares, in the database (`zoho_budget`, one row per org).

`DbBudgetStore` is the `zoho.budget_shared.SharedWindow` of a database: `connect`, the console, the CLI,
`zbsn serve` and every worker on every host admit each Zoho request through the org's row, so together they
send at most the limit within any window and at most `concurrency` at once, and a 429 code 44 or 45 seen by
one of them pauses all of them (zoho-ref §6).

Each call is one short transaction that first locks the org's row: an UPDATE of it (PostgreSQL: the row lock
`SELECT … FOR UPDATE` would take; SQLite: the database's write lock, so a second process waits on its busy
timeout). Stamps are epoch seconds of the server's clock on PostgreSQL (`clock_timestamp()`: hosts need not
agree on the time) and of the host on SQLite. The row holds the completion stamps of the last window, the
leases in flight (holder `host:pid`), the pause and the daily figures; a lease whose process is gone (same
host) or older than `lease_ttl_s` is counted as completed when found, so a killed process frees its flights.

The calls run on a worker thread (`asyncio.to_thread`) and are run again after transient database errors
within the engine's outage window (`db.transient`).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from zbsn.core.db.models import ZohoBudgetWindow
from zbsn.core.db.transient import with_retries
from zbsn.core.holders import holder_id, holder_is_dead
from zbsn.core.zoho.budget_shared import Admission, DailyHeaders, SharedFigures

_TABLE: sa.Table = ZohoBudgetWindow.__table__  # type: ignore[attr-defined]
DEFAULT_LEASE_TTL_S = (
    180.0  # a request (60 s timeout) never holds its lease this long unless its process died
)
CONCURRENCY_POLL_S = 0.05  # how soon to ask again when only the in-flight cap is full
MIN_WAIT_S = 0.005


@dataclass
class _Row:
    """The org's row, decoded."""

    done: list[float] = field(default_factory=list)
    leases: dict[str, list[Any]] = field(default_factory=dict)  # lease -> [admitted_at, holder, weight]
    paused_until: float | None = None
    pause_reason: str | None = None
    total: int = 0
    day_count: int = 0
    remaining_today: int | None = None
    daily_limit: int | None = None
    reset_at: float | None = None

    @classmethod
    def decode(cls, row: sa.Row[Any]) -> _Row:
        return cls(
            done=[float(t) for t in json.loads(row.done or "[]")],
            leases={str(k): list(v) for k, v in json.loads(row.leases or "{}").items()},
            paused_until=row.paused_until,
            pause_reason=row.pause_reason,
            total=int(row.total),
            day_count=int(row.day_count),
            remaining_today=row.remaining_today,
            daily_limit=row.daily_limit,
            reset_at=row.reset_at,
        )

    def encode(self, now: float, window_s: float) -> dict[str, Any]:
        return {
            "done": json.dumps([round(t, 4) for t in self.done]),
            "leases": json.dumps(self.leases),
            "paused_until": self.paused_until,
            "pause_reason": self.pause_reason,
            "total": self.total,
            "day_count": self.day_count,
            "remaining_today": self.remaining_today,
            "daily_limit": self.daily_limit,
            "reset_at": self.reset_at,
            "window_s": window_s,
            "updated_at": now,
        }

    def settle(self, now: float, window_s: float, lease_ttl_s: float) -> None:
        """Forget stamps older than the window; count leases of dead processes (or too old) as completed."""
        for lease, (admitted, holder, weight) in list(self.leases.items()):
            if now - float(admitted) > lease_ttl_s or holder_is_dead(str(holder)):
                del self.leases[lease]
                self.done.extend([now] * int(weight))  # it may have reached Zoho: count it, to be safe
        self.done.sort()
        horizon = now - window_s
        self.done = [t for t in self.done if t > horizon]
        if self.paused_until is not None and self.paused_until <= now:
            self.paused_until, self.pause_reason = None, None

    def weight_in_flight(self) -> int:
        return sum(int(weight) for _admitted, _holder, weight in self.leases.values())

    def figures(self, now: float) -> SharedFigures:
        paused = max(0.0, (self.paused_until or now) - now)
        return SharedFigures(
            used=len(self.done) + self.weight_in_flight(),
            in_flight=len(self.leases),
            paused_for=paused,
            pause_reason=self.pause_reason if paused > 0 else None,
            total=self.total,
            day_count=self.day_count,
            remaining_today=self.remaining_today,
            daily_limit=self.daily_limit,
        )


@dataclass(frozen=True, slots=True)
class OrgUse:
    """One org's use as the all-profiles view and `zbsn status` show it (read without locking)."""

    organization_id: str
    used: int  # requests in the window now, by every process of the deployment
    in_flight: int
    window_s: float
    paused_for: float
    pause_reason: str | None
    day_count: int
    remaining_today: int | None
    daily_limit: int | None


class DbBudgetStore:
    """The `SharedWindow` of one database (see the module docstring)."""

    def __init__(self, engine: sa.Engine, *, lease_ttl_s: float = DEFAULT_LEASE_TTL_S) -> None:
        self.engine = engine
        self.lease_ttl_s = lease_ttl_s
        self.holder = holder_id()
        self._known: set[str] = set()  # orgs whose row exists

    # -- the SharedWindow calls ----------------------------------------------------------------------------
    async def admit(
        self, org: str, *, limit: int, concurrency: int, window_s: float, extra_for: str | None = None
    ) -> Admission:
        """Admit one request, or say how long to wait (`budget_shared.SharedWindow.admit`)."""
        return await asyncio.to_thread(
            with_retries, self.engine, self.admit_sync, org, limit, concurrency, window_s, extra_for
        )

    async def complete(
        self, org: str, lease: str, *, counted: int, window_s: float, daily: DailyHeaders | None
    ) -> SharedFigures:
        """End a lease (`budget_shared.SharedWindow.complete`)."""
        return await asyncio.to_thread(
            with_retries, self.engine, self.complete_sync, org, lease, counted, window_s, daily
        )

    async def pause(self, org: str, seconds: float, reason: str) -> None:
        """Pause the org for every process (`budget_shared.SharedWindow.pause`)."""
        await asyncio.to_thread(with_retries, self.engine, self.pause_sync, org, seconds, reason)

    # -- the transactions ----------------------------------------------------------------------------------
    def admit_sync(
        self, org: str, limit: int, concurrency: int, window_s: float, extra_for: str | None = None
    ) -> Admission:
        """One admission transaction."""
        with self._locked(org) as (conn, now, row):
            row.settle(now, window_s, self.lease_ttl_s)
            used = len(row.done) + row.weight_in_flight()
            lease: str | None = None
            wait = 0.0
            if row.paused_until is not None:
                wait = row.paused_until - now
            elif used >= limit:
                # the oldest completed request leaves the window then (or an in-flight one completes first)
                wait = (row.done[0] + window_s - now) if row.done else CONCURRENCY_POLL_S
            elif extra_for is not None:
                held = row.leases.get(extra_for)
                if held is not None:
                    held[2] = int(held[2]) + 1
                lease = extra_for
            elif len(row.leases) >= concurrency:
                wait = CONCURRENCY_POLL_S
            else:
                lease = uuid.uuid4().hex[:16]
                row.leases[lease] = [now, self.holder, 1]
            self._write(conn, org, row, now, window_s)
            return Admission(lease=lease, wait_s=max(wait, MIN_WAIT_S), figures=row.figures(now))

    def complete_sync(
        self, org: str, lease: str, counted: int, window_s: float, daily: DailyHeaders | None
    ) -> SharedFigures:
        """One completion transaction: the lease's requests become stamps; the daily headers are noted."""
        with self._locked(org) as (conn, now, row):
            if row.leases.pop(lease, None) is not None:  # else settled already (counted when found)
                row.done.extend([now] * counted)
                row.total += counted
                row.day_count += counted
            if daily is not None:
                if daily.remaining is not None:
                    if _new_day(row, daily.remaining, now):
                        row.day_count = counted  # Zoho's daily quota was reset since the last response
                        row.remaining_today = daily.remaining
                    elif row.remaining_today is None or daily.remaining < row.remaining_today:
                        # Responses of several processes are recorded out of order: a higher figure is an
                        # older one, not a reset.
                        row.remaining_today = daily.remaining
                if daily.limit is not None:
                    row.daily_limit = daily.limit
                if daily.reset_s is not None:
                    row.reset_at = now + daily.reset_s
            row.settle(now, window_s, self.lease_ttl_s)
            self._write(conn, org, row, now, window_s)
            return row.figures(now)

    def pause_sync(self, org: str, seconds: float, reason: str) -> None:
        """One pause transaction (the longest pause wins)."""
        with self._locked(org) as (conn, now, row):
            until = now + seconds
            if row.paused_until is None or until > row.paused_until:
                row.paused_until, row.pause_reason = until, reason
            self._write(conn, org, row, now, None)

    # -- reading -------------------------------------------------------------------------------------------
    def uses(self, organization_ids: list[str] | None = None) -> dict[str, OrgUse]:
        """Every org's use now (or these orgs'), for the all-profiles view and `zbsn status`."""
        query = sa.select(_TABLE, self._now_column())
        if organization_ids is not None:
            query = query.where(_TABLE.c.organization_id.in_(organization_ids))
        found: dict[str, OrgUse] = {}
        with self.engine.connect() as conn:
            for result in conn.execute(query):
                now = self._now_value(result)
                row = _Row.decode(result)
                window = float(result.window_s)
                row.done = [t for t in row.done if t > now - window]
                figures = row.figures(now)
                found[result.organization_id] = OrgUse(
                    organization_id=result.organization_id,
                    used=figures.used,
                    in_flight=figures.in_flight,
                    window_s=window,
                    paused_for=figures.paused_for,
                    pause_reason=figures.pause_reason,
                    day_count=row.day_count,
                    remaining_today=row.remaining_today,
                    daily_limit=row.daily_limit,
                )
        return found

    def charge(self, organization_ids: list[str], requests: int, window_s: float) -> None:
        """Count `requests` that named no org (listing a user's organizations) against each of these orgs.

        [I] Zoho's docs do not say which org such a call counts against; charging every org it listed is the
        safe reading (the sandbox counts it against its one org).
        """
        for org in organization_ids:
            with_retries(self.engine, self._charge_one, org, requests, window_s)

    def _charge_one(self, org: str, requests: int, window_s: float) -> None:
        with self._locked(org) as (conn, now, row):
            row.done.extend([now] * requests)
            row.total += requests
            row.day_count += requests
            row.settle(now, window_s, self.lease_ttl_s)
            self._write(conn, org, row, now, window_s)

    # -- plumbing ------------------------------------------------------------------------------------------
    def _now_column(self) -> sa.ColumnElement[Any]:
        if self.engine.dialect.name == "postgresql":
            return sa.literal_column("extract(epoch from clock_timestamp())").label("server_now")
        return sa.literal(None).label("server_now")

    @staticmethod
    def _now_value(result: sa.Row[Any]) -> float:
        value = result.server_now
        return float(value) if value is not None else time.time()

    def _ensure(self, org: str) -> None:
        if org in self._known:
            return
        values = {"organization_id": org, **_Row().encode(0.0, 60.0)}
        dialect = self.engine.dialect.name
        insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_TABLE)
        if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the two backends zbsn supports
            raise NotImplementedError(f"the shared Zoho budget needs PostgreSQL or SQLite, not {dialect}")
        with self.engine.begin() as conn:
            conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["organization_id"]))
        self._known.add(org)

    @contextmanager
    def _locked(self, org: str) -> Iterator[tuple[sa.Connection, float, _Row]]:
        """One transaction holding the org's row: `with self._locked(org) as (conn, now, row)`."""
        self._ensure(org)
        with self.engine.begin() as conn:
            # the lock first: a write to the row (PostgreSQL: its row lock; SQLite: the write lock)
            conn.execute(
                _TABLE.update().where(_TABLE.c.organization_id == org).values(updated_at=_TABLE.c.updated_at)
            )
            result = conn.execute(
                sa.select(_TABLE, self._now_column()).where(_TABLE.c.organization_id == org)
            ).one()
            yield conn, self._now_value(result), _Row.decode(result)

    def _write(self, conn: sa.Connection, org: str, row: _Row, now: float, window_s: float | None) -> None:
        values = row.encode(now, window_s if window_s is not None else 60.0)
        if window_s is None:
            del values["window_s"]
        conn.execute(_TABLE.update().where(_TABLE.c.organization_id == org).values(**values))


def window_use(use: OrgUse, limit: int) -> str:
    """`73/100 in 60 s` (the deployment's requests in the org's window)."""
    window = f"{use.window_s:g} s" if not math.isclose(use.window_s, 60.0) else "min"
    return f"{use.used}/{limit} per {window}"


__all__ = ["DEFAULT_LEASE_TTL_S", "DbBudgetStore", "OrgUse", "window_use"]


def _new_day(row: _Row, remaining: int, now: float) -> bool:
    """Whether Zoho's daily quota was reset since the row's last figures: its reset time has passed, or (with
    no reset time known) the remaining count jumped by more than half the day's limit, far beyond what
    out-of-order responses of concurrent requests can explain."""
    if row.remaining_today is None:
        return False
    if row.reset_at is not None:
        return now >= row.reset_at and remaining > row.remaining_today
    return remaining > row.remaining_today + (row.daily_limit or 1000) // 2
