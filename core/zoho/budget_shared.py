"""What an org budget shared by every process of a deployment offers (`OrgBudget(shared=...)`).

Zoho counts an organization's requests per minute, in flight and per day across every client (zoho-ref §6),
so a budget per process lets `connect`, the console, a cron `zbsn sync`, `zbsn serve` and the workers of
one deployment together exceed 100 a minute. A shared window is the deployment's one account of the org:
its requests completed within the window, its leases (requests in flight, each held by a process), an
org-wide pause (after a code 44 or 45 seen by any process) and the daily figures. `zbsn.core.budget_store`
keeps it in the database; every process admits each request through it after its own in-process checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SharedFigures:
    """The deployment's use of one org, as of the transaction that returned it."""

    used: int  # requests in the window now: completed within it plus in flight
    in_flight: int
    paused_for: float  # seconds left of an org-wide pause (0: none)
    pause_reason: str | None
    total: int  # requests the deployment completed with this org, ever (the others' estimate uses it)
    day_count: int  # requests the deployment completed since the daily quota was last seen to reset
    remaining_today: int | None = None  # Zoho's last X-Rate-Limit-Remaining seen by any process
    daily_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Admission:
    """A request admitted (`lease` names it until `complete`), or how long to wait before asking again."""

    lease: str | None
    wait_s: float
    figures: SharedFigures


@dataclass(frozen=True, slots=True)
class DailyHeaders:
    """Zoho's daily quota headers of one response."""

    remaining: int | None
    limit: int | None
    reset_s: int | None


class SharedWindow(Protocol):
    """The deployment-wide account of each org's requests (see the module docstring)."""

    async def admit(
        self, org: str, *, limit: int, concurrency: int, window_s: float, extra_for: str | None = None
    ) -> Admission:
        """Admit one request if the window holds fewer than `limit` and fewer than `concurrency` are in
        flight (`extra_for`: one more request riding that lease's flight, the window alone decides)."""
        ...

    async def complete(
        self, org: str, lease: str, *, counted: int, window_s: float, daily: DailyHeaders | None
    ) -> SharedFigures:
        """End a lease: its `counted` requests stay in the window; record the daily headers seen."""
        ...

    async def pause(self, org: str, seconds: float, reason: str) -> None:
        """Pause the org for every process (after Zoho's code 44 or 45)."""
        ...
