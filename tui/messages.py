"""App-wide messages: the contract between core-calling workers and the widgets that render results.

Every worker posts exactly one of these when its core call returns (or fails). Names are past tense.
`EngineEventsArrived` announces a batch of engine events, so a flood of updates never backs the queue up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from zbsn.core.audit_query import AuditDetail, AuditFilter, AuditPage, BoundedCount
from zbsn.core.engine.events import Event


class EngineEventsArrived(Message):
    """Engine events (progress, budget, tokens, records, log lines) are waiting: call `batch.drain()`.

    A timer on each subscriber posts it (ten times a second at most) when events wait, and at most one is
    pending per subscriber (see `widgets.engine_feed`); it does not bubble, since every widget that wants
    events subscribes to the bus itself.
    """

    bubble = False

    def __init__(self, batch: Any) -> None:
        super().__init__()
        self.batch = batch

    def drain(self) -> list[Event]:
        events: list[Event] = self.batch.drain()
        return events


@dataclass
class CoreCallFailed(Message):
    """A core call raised; `action` says what the operator was trying to do, in words."""

    action: str
    error: str


@dataclass
class AuditPageLoaded(Message):
    page: AuditPage
    counts: dict[str, BoundedCount]
    total: BoundedCount
    page_number: int


@dataclass
class AuditDetailLoaded(Message):
    audit_id: int
    detail: AuditDetail | None


@dataclass
class ReplayRequested(Message):
    """The operator confirmed a replay of these audit ids (or every failed one in `filter`)."""

    ids: list[int]
    filter: AuditFilter | None = None


@dataclass
class ReplayStarted(Message):
    """The replay worker resolved its ids and is sending them."""

    ids: list[int]


@dataclass
class ReplayFinished(Message):
    ids: list[int]
    result: Any
    staged: int = 0
    failed: int = 0


@dataclass
class ReconciliationLoaded(Message):
    period: str
    report: Any


@dataclass
class MappingsLoaded(Message):
    cost_centers: list[Any] = field(default_factory=list)
    gl_accounts: list[Any] = field(default_factory=list)
    suppliers: list[Any] = field(default_factory=list)


@dataclass
class PreviewLoaded(Message):
    preview: Any


@dataclass
class OverrideSaved(Message):
    kind: str
    zoho_key: str
    value: str | None


@dataclass
class PreviewExported(Message):
    path: str
    rows: int


@dataclass
class RunCompleted(Message):
    """The run worker returned (the engine's own RunFinished event carries the numbers)."""

    result: Any


@dataclass
class SchedulesLoaded(Message):
    schedules: list[Any]
    receiver: Any = None


@dataclass
class ConnectionsLoaded(Message):
    zoho: Any
    servicenow: Any


@dataclass
class ZohoAuthorised(Message):
    result: Any


@dataclass
class ServiceNowTested(Message):
    result: Any
