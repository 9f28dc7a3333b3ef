"""Which Zoho bill statuses a profile stages, and the audit entry of a bill that waits for approval.

Zoho Books bills move draft -> (pending_approval -> approved, with approvals on) -> open -> overdue /
partially_paid -> paid, or void (zoho-ref §4.2). Only approved states are payables: a profile stages `open`,
`overdue`, `partially_paid` and `paid` by default (`SyncProfile.stage_bill_statuses`). A bill in any other
state (draft, pending approval, a state the profile leaves out) is skipped with the reason "waiting for
approval in Zoho" and no detail request; approving it in Zoho moves its `last_modified_time`, so the next
run reads it again and stages it (the one "unchanged" rule, `unchanged.py`). [INF] that Zoho moves
`last_modified_time` on approval: an approval changes the bill's status, which every other status change
does move; the sandbox does the same.
"""

from __future__ import annotations

from collections.abc import Iterable

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem

APPROVED_BILL_STATUSES: tuple[str, ...] = ("open", "overdue", "partially_paid", "paid")
# [INF] `approved` is the state between approval and open when approvals are on; Zoho lists it as a status
KNOWN_BILL_STATUSES: tuple[str, ...] = (
    "draft",
    "pending_approval",
    "approved",
    *APPROVED_BILL_STATUSES,
)
AWAITING_APPROVAL_STATUSES = ("draft", "pending_approval", "approved")
VOID = "void"
STATUS_LABELS = {
    "draft": "draft",
    "pending_approval": "pending approval",
    "approved": "approved, not yet open",
}


def parse_bill_statuses(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """The statuses a profile stages from a comma-separated setting (or a list); refuses unknown ones.

    Empty or None gives the default (`APPROVED_BILL_STATUSES`); `void` is never staged."""
    items = text.split(",") if isinstance(text, str) else list(text or [])
    wanted = [item.strip().casefold() for item in items if item and item.strip()]
    if not wanted:
        return APPROVED_BILL_STATUSES
    unknown = [item for item in wanted if item not in KNOWN_BILL_STATUSES]
    if unknown:
        known = ", ".join(KNOWN_BILL_STATUSES)
        raise ValueError(f"unknown bill status {', '.join(unknown)!s} (known: {known})")
    return tuple(status for status in KNOWN_BILL_STATUSES if status in wanted)


def format_bill_statuses(statuses: Iterable[str]) -> str:
    """The setting's stored text: the statuses comma-separated, in lifecycle order."""
    return ",".join(parse_bill_statuses(list(statuses)))


def waiting_reason(status: str | None, context: RunContext) -> str | None:
    """Why a bill in `status` is not staged yet (None: it is staged, or it is void and cancelled)."""
    state = (status or "").casefold().strip()
    if state == VOID or state in context.stage_bill_statuses:
        return None
    label = STATUS_LABELS.get(state, state or "no status")
    if state in AWAITING_APPROVAL_STATUSES:
        return f"waiting for approval in Zoho ({label}); staged once approved"
    return f"not staged: this profile leaves out bills in status {label!r}"


def skip_code(status: str | None) -> ErrorCode:
    """The code of a skipped bill: waiting for approval, or a status the profile leaves out."""
    state = (status or "").casefold().strip()
    return ErrorCode.AWAITING_APPROVAL if state in AWAITING_APPROVAL_STATUSES else ErrorCode.STATUS_NOT_STAGED


def waiting_entry(
    context: RunContext,
    bill_id: str,
    number: str | None,
    vendor_name: str | None,
    marker: str | None,
    source: str,
    reason: str,
    code: ErrorCode = ErrorCode.AWAITING_APPROVAL,
) -> AuditEntry:
    """A bill not approved in Zoho (or in a status the profile leaves out): skipped with the reason (never
    failed), nothing written to ServiceNow."""
    return AuditEntry(
        kind=RecordKind.BILL,
        zoho_id=bill_id,
        external_key=colnames.invoice_key(context.organization_id, bill_id),
        zoho_number=number,
        zoho_modified=marker,
        vendor_name=vendor_name,
        source_payload=source,
        status=AuditStatus.SKIPPED,
        error_code=code.value,
        error_message=reason,
        problems=[Problem(code, reason)],
    )
