"""Every profile at a glance: its last run, what is failing or pending, and whether both tokens work.

What the console's Profiles screen and `zbsn status --json` (monitoring) show for a firm with many
organizations: also whether a run or queued jobs are at work on it, its org's shared Zoho budget and how many
of its records stand in each ServiceNow status. Grouped queries for all profiles together (the last run of
each, audit rows by staging and ServiceNow status in one query, run locks, queued jobs, budget rows), never
one query per profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, func, select

from zbsn.core.budget_store import DbBudgetStore, OrgUse
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus, RunStatus, ServiceNowStatus
from zbsn.core.profile_activity import queued_jobs, running_profiles
from zbsn.core.profiles import ProfileView
from zbsn.core.token_status import TokenStateName
from zbsn.core.workspace import Workspace

# Run states that need the operator (the next scheduled run will not fix them by itself).
ATTENTION_RUN_STATES = frozenset({RunStatus.FAILED, RunStatus.REAUTH, RunStatus.INTERRUPTED})
# ServiceNow statuses that wait for someone (the statuses stage counts them alike): the AP team or a replay.
ATTENTION_SERVICENOW_STATUSES = frozenset(
    {ServiceNowStatus.EXCEPTIONS_FOUND, ServiceNowStatus.POSTING_FAILED}
)


@dataclass(frozen=True, slots=True)
class LastRun:
    """The most recent run of a profile."""

    run_id: int
    status: str
    trigger: str
    mode: str
    started_at: datetime
    finished_at: datetime | None
    staged: int
    failed: int
    message: str | None


@dataclass(frozen=True, slots=True)
class ProfileStatus:
    """One profile's state for monitoring."""

    profile: ProfileView
    last_run: LastRun | None
    records: dict[str, int] = field(default_factory=dict)  # audit status -> records of this profile
    tokens: dict[str, TokenStateName] = field(default_factory=dict)  # "zoho" / "servicenow" -> state
    running: bool = False  # a run holds the profile's lock now
    queued: int = 0  # jobs of the profile waiting for a worker (PostgreSQL deployments)
    budget: OrgUse | None = None  # the org's Zoho budget as every process of the deployment uses it
    servicenow: dict[str, int] = field(default_factory=dict)  # ServiceNow status -> records (last refresh)

    @property
    def state(self) -> str:
        """`running`, `queued` or `idle`."""
        return "running" if self.running else "queued" if self.queued else "idle"

    @property
    def failed_records(self) -> int:
        """Records whose last attempt failed (waiting for a fix and a replay)."""
        return self.records.get(AuditStatus.FAILED, 0)

    @property
    def servicenow_waiting(self) -> int:
        """Invoices ServiceNow holds back for someone: exceptions found, or an outbound posting in error."""
        return sum(self.servicenow.get(status, 0) for status in ATTENTION_SERVICENOW_STATUSES)

    @property
    def servicenow_counts(self) -> list[tuple[str, int]]:
        """The ServiceNow status counts in lifecycle order (a status zbsn does not know comes last)."""
        known = [
            (status.value, self.servicenow[status])
            for status in ServiceNowStatus
            if status in self.servicenow
        ]
        unknown = sorted(
            (name, n) for name, n in self.servicenow.items() if name not in set(ServiceNowStatus)
        )
        return known + unknown

    @property
    def needs_attention(self) -> bool:
        """A token to re-authorise, a run that ended badly, failed records, or invoices ServiceNow holds back
        for someone."""
        if any(state in ("reauthorise", "not connected") for state in self.tokens.values()):
            return True
        if self.last_run is not None and self.last_run.status in ATTENTION_RUN_STATES:
            return True
        return self.failed_records > 0 or self.servicenow_waiting > 0


def profile_statuses(workspace: Workspace) -> list[ProfileStatus]:
    """The status of every profile of the workspace's database, in profile order."""
    profiles = workspace.list_profiles()
    with session_scope(workspace.db_engine) as session:
        last_ids = select(func.max(SyncRun.id)).group_by(col(SyncRun.profile_id))
        runs = {
            run.profile_id: run
            for run in session.exec(select(SyncRun).where(col(SyncRun.id).in_(last_ids))).all()
        }
        counts: dict[int, dict[str, int]] = {}
        sn_counts: dict[int, dict[str, int]] = {}
        grouped = select(
            AuditRecord.profile_id, AuditRecord.status, AuditRecord.sn_status, func.count()
        ).group_by(col(AuditRecord.profile_id), col(AuditRecord.status), col(AuditRecord.sn_status))
        for profile_id, status, sn_status, count in session.exec(grouped).all():
            by_status = counts.setdefault(profile_id, {})
            by_status[status] = by_status.get(status, 0) + int(count)
            if sn_status is not None:
                by_sn = sn_counts.setdefault(profile_id, {})
                by_sn[sn_status] = by_sn.get(sn_status, 0) + int(count)
    running = running_profiles(workspace.db_engine)
    queued = queued_jobs(workspace.db_engine)
    orgs = sorted({view.organization_id for view in profiles if view.organization_id})
    budgets = DbBudgetStore(workspace.db_engine).uses(orgs) if orgs else {}
    statuses = []
    tokens_by_connection = {status.connection_id: status.state for status in workspace.token_statuses()}
    for view in profiles:
        run = runs.get(view.id)
        statuses.append(
            ProfileStatus(
                profile=view,
                last_run=_last_run(run) if run is not None else None,
                records=counts.get(view.id, {}),
                tokens={
                    "zoho": tokens_by_connection.get(view.zoho_connection_id, "not connected"),
                    "servicenow": tokens_by_connection.get(view.servicenow_connection_id, "not connected"),
                },
                running=view.id in running,
                queued=queued.get(view.id, 0),
                budget=budgets.get(view.organization_id) if view.organization_id else None,
                servicenow=sn_counts.get(view.id, {}),
            )
        )
    return statuses


def _last_run(run: SyncRun) -> LastRun:
    assert run.id is not None
    return LastRun(
        run_id=run.id,
        status=run.status,
        trigger=run.trigger,
        mode=run.mode,
        started_at=run.started_at,
        finished_at=run.finished_at,
        staged=run.staged,
        failed=run.failed,
        message=run.message,
    )


__all__ = ["ATTENTION_SERVICENOW_STATUSES", "LastRun", "ProfileStatus", "profile_statuses"]
