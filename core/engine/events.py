"""Progress events the engine publishes; the TUI and the CLI both render them.

Events are small frozen dataclasses, named in the past tense. The engine calls an `EventSink` (any callable
taking an `Event`); `EventBus` fans one stream out to several sinks and keeps a short history.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from zbsn.core.clock import utcnow

Stage = Literal[
    "pending",
    "cost_centers",
    "gl_accounts",
    "suppliers",
    "bills",
    "attachments",
    "payments",
    "vendor_credits",
    "statuses",
]
# "pending": rows an interrupted run left pending, resent first (`staged` resent, `failed`).
# "attachments": the staged bills' documents (`staged` attached, `failed`, `skipped`: attached before).
# "statuses": the invoices followed in ServiceNow after staging (its StageFinished counts the invoices read as
# `staged`, those needing someone as `failed`).
# Every stage of a sync run, in the order it runs them (`runner.sync_run`); each publishes its start, progress
# and end, and the front ends draw one row per stage.
STAGES: tuple[Stage, ...] = get_args(Stage)
System = Literal["zoho", "servicenow"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every engine event."""

    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted(Event):
    run_id: int
    profile_id: int
    mode: str  # "full" | "changed" | "webhook" | "replay" | "refresh"
    trigger: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StageStarted(Event):
    run_id: int
    stage: Stage
    total: int | None  # None while unknown (e.g. a page walk in progress)


@dataclass(frozen=True, slots=True, kw_only=True)
class StageProgressed(Event):
    run_id: int
    stage: Stage
    done: int
    total: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StageFinished(Event):
    run_id: int
    stage: Stage
    staged: int
    failed: int
    skipped: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordStaged(Event):
    run_id: int
    kind: str
    zoho_id: str
    number: str | None
    staging_status: str  # inserted | updated | ignored
    sn_sys_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFailed(Event):
    run_id: int
    kind: str
    zoho_id: str | None
    number: str | None
    error_code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSkipped(Event):
    run_id: int
    kind: str
    zoho_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetChanged(Event):
    """The Zoho org budget, live: what the gauge shows."""

    organization_id: str
    used_this_window: int
    per_window_limit: int
    window_seconds: float
    remaining_today: int | None
    daily_limit: int | None
    reset_at: datetime | None
    queue_depth: int
    in_flight: int
    paused_until: datetime | None
    pause_reason: str | None
    # True: `used_this_window` and `in_flight` are the deployment's, every process sharing the org's budget
    # through the database (`budget_store`); `own_this_window` is this process's part of them
    shared: bool = False
    own_this_window: int | None = None
    others_per_window: float = 0.0  # estimated requests per window by Zoho clients outside the deployment


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenStatusChanged(Event):
    system: System
    state: str  # "ok" | "wait" | "reauthorise"
    expires_in_s: float | None
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine(Event):
    level: Literal["info", "warning", "error"]
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusesRefreshed(Event):
    """A status refresh read the run's followed invoices in ServiceNow."""

    run_id: int
    followed: int  # invoices read
    by_status: dict[str, int]  # ServiceNowStatus value -> invoices now in it
    changed: int  # invoices whose status (or open problems) changed
    posted: int  # outbound invoices zbsn marked Processed as the ERP
    replay_fixes: int  # invoices a replay can move on
    requests: int  # ServiceNow requests the refresh spent (posting included)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished(Event):
    run_id: int
    status: str  # a RunStatus value
    staged: int
    failed: int
    skipped: int
    unchanged: int
    zoho_requests: int
    servicenow_requests: int
    message: str | None
    total_amount: Decimal | None = None


EventSink = Callable[[Event], None]


class EventBus:
    """Fan events out to subscribers and keep the most recent ones for late joiners."""

    def __init__(self, history: int = 500) -> None:
        self._sinks: list[EventSink] = []
        self.history: deque[Event] = deque(maxlen=history)

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Add `sink`; returns a function that removes it."""
        self._sinks.append(sink)

        def unsubscribe() -> None:
            if sink in self._sinks:
                self._sinks.remove(sink)

        return unsubscribe

    def __call__(self, event: Event) -> None:
        """Publish `event` to every subscriber (a failing subscriber never stops the engine)."""
        self.history.append(event)
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:  # noqa: S112 - a broken view must not break a sync
                continue
