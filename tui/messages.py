"""App-wide messages: the contract between core-calling workers and the widgets that render results.

Every worker posts exactly one of these when its core call returns (or fails). Names are past tense.
`EngineEventsArrived` announces a batch of engine events, so a flood of updates never backs the queue up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

from zbsn.core.audit_query import AuditDetail, AuditFilter, AuditPage, BoundedCount
from zbsn.core.engine.events import Event
from zbsn.core.engine.preview import PreviewReport
from zbsn.core.engine.reconcile import ReconciliationReport
from zbsn.core.engine.runner import RunSummary
from zbsn.core.scheduling import ScheduleView
from zbsn.core.webhooks.receiver import ReceiverState
from zbsn.core.workspace import PreflightCheck, ServiceNowTestResult, ZohoConnectResult

if TYPE_CHECKING:
    from zbsn.tui.widgets.engine_feed import EventBatch
    from zbsn.tui.widgets.preview_model import MappingLine


class EngineEventsArrived(Message, bubble=False):
    """Engine events (progress, budget, tokens, records, log lines) are waiting: call `batch.drain()`.

    A timer on each subscriber posts it (ten times a second at most) when events wait, and at most one is
    pending per subscriber (see `widgets.engine_feed`); it does not bubble, since every widget that wants
    events subscribes to the bus itself (a bubbling one let the Run screen drain its status bar's batch: the
    bar missed those events and the screen applied them twice, out of order). `bubble=False` goes in the
    class statement: Textual's `__init_subclass__` overwrites a `bubble` class attribute.
    """

    def __init__(self, batch: EventBatch) -> None:
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
    servicenow_counts: dict[str, BoundedCount] = field(default_factory=dict)  # per ServiceNow status


@dataclass
class StatusesRefreshDone(Message):
    """A status refresh on demand (Audit screen, R) finished."""

    result: RunSummary


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
    result: RunSummary
    staged: int = 0
    failed: int = 0


@dataclass
class ReconciliationLoaded(Message):
    period: str
    report: ReconciliationReport


@dataclass
class MappingsLoaded(Message):
    cost_centers: list[MappingLine] = field(default_factory=list)
    gl_accounts: list[MappingLine] = field(default_factory=list)
    suppliers: list[MappingLine] = field(default_factory=list)


@dataclass
class PreviewLoaded(Message):
    preview: PreviewReport


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

    result: RunSummary


@dataclass
class SchedulesLoaded(Message):
    schedules: list[ScheduleView]
    receiver: ReceiverState | None = None


@dataclass
class ZohoAuthorised(Message):
    result: ZohoConnectResult


@dataclass
class ServiceNowTested(Message):
    result: ServiceNowTestResult
    connection_id: int | None = None


@dataclass
class PreflightChecked(Message):
    """The pre-flight of a ServiceNow connection returned (what the instance lacks for staging)."""

    check: PreflightCheck
