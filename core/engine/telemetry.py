"""Run counters and the events that report them (records, budget gauge, token states)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zbsn.core.engine.events import (
    BudgetChanged,
    Event,
    EventSink,
    LogLine,
    TokenStatusChanged,
)


def _ignore(_event: Event) -> None:
    return None


@dataclass(slots=True)
class Counters:
    """What a run (or one of its stages) did."""

    staged: int = 0
    failed: int = 0
    skipped: int = 0
    unchanged: int = 0
    cancelled: int = 0
    flagged: int = 0  # voids and deletes flagged for the AP team (their invoices stay in ServiceNow)
    attachments: int = 0  # bills' documents attached to their invoices
    total_amount: Decimal = field(default_factory=lambda: Decimal(0))
    servicenow_statuses: dict[str, int] = field(default_factory=dict)  # after the status refresh


class Telemetry:
    """Publishes events to the run's sink; never lets a broken sink break the run."""

    def __init__(self, sink: EventSink | None) -> None:
        self.sink: EventSink = sink or _ignore

    def emit(self, event: Event) -> None:
        """Publish one event."""
        try:
            self.sink(event)
        except Exception:  # noqa: S110 - a broken view must not break a sync
            pass

    def log(self, level: str, text: str) -> None:
        """Publish a log line ("info" | "warning" | "error")."""
        self.emit(LogLine(level=level if level in ("info", "warning", "error") else "info", text=text))  # type: ignore[arg-type]

    def budget(self, zoho: Any) -> None:
        """Publish the Zoho org budget, when the source has one (`budget.snapshot()`)."""
        budget = getattr(zoho, "budget", None)
        snapshot = budget.snapshot() if budget is not None and hasattr(budget, "snapshot") else None
        if snapshot is None:
            return
        self.emit(
            BudgetChanged(
                organization_id=str(getattr(zoho, "organization_id", "")),
                used_this_window=snapshot.used_this_window,
                per_window_limit=snapshot.per_window_limit,
                window_seconds=snapshot.window_seconds,
                remaining_today=snapshot.remaining_today,
                daily_limit=snapshot.daily_limit,
                reset_at=snapshot.reset_at,
                queue_depth=snapshot.queue_depth,
                in_flight=snapshot.in_flight,
                paused_until=snapshot.paused_until,
                pause_reason=snapshot.pause_reason,
                shared=bool(getattr(snapshot, "shared", False)),
                own_this_window=getattr(snapshot, "own_this_window", None),
                others_per_window=float(getattr(snapshot, "others_per_window", 0.0)),
            )
        )

    def tokens(self, zoho: Any, servicenow: Any) -> None:
        """Publish both connections' token states, when the clients expose them."""
        for system, holder in (
            ("zoho", getattr(zoho, "tokens", None)),
            ("servicenow", getattr(servicenow, "auth", None)),
        ):
            if holder is None or not hasattr(holder, "state"):
                continue
            expires = holder.expires_in() if hasattr(holder, "expires_in") else None
            reason = getattr(holder, "reason", None)
            self.emit(
                TokenStatusChanged(
                    system=system,  # type: ignore[arg-type]
                    state=str(holder.state),
                    expires_in_s=expires,
                    message=reason if isinstance(reason, str) else None,
                )
            )
