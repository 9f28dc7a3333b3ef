"""Which Zoho bill statuses a profile stages, and the audit entry of a bill that waits for approval.

Zoho Books bills move draft -> (pending_approval -> approved, with approvals on) -> open -> overdue /
partially_paid -> paid, or void (zoho-ref §4.2). Only approved states are payables: a profile stages `open`,
`overdue`, `partially_paid` and `paid` by default (`SyncProfile.stage_bill_statuses`). A bill in any other
state (draft, pending approval, a state the profile leaves out) is skipped with the reason "waiting for
approval in Zoho" and no detail request; approving it in Zoho moves its `last_modified_time`, so the next
run reads it again and stages it (the one "unchanged" rule, `unchanged.py`). [INF] that Zoho moves
`last_modified_time` on approval: an approval changes the bill's status, which every other status change
does move; the sandbox does the same.

A bill that goes back to draft (or to pending approval) after its invoice was staged is not silently
waiting: its invoice is in ServiceNow, so it is flagged (RETURNED_TO_DRAFT_IN_ZOHO) with the invoice's state
there and what to do, and nothing is written. The flag keeps the rows the invoice was staged with (an entry
without rows leaves the audit row's mapped payload as it was), so once the bill is approved again it is
compared with them as any change is (`bill_changes.py`: edited after approval, lines removed). [INF] Zoho
Books documents no "convert to draft" for bills; an approval withdrawn, or a bill rejected on re-approval,
is how the states are reached (the sandbox's `return_bill_to_draft`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.bill_changes import LOCKED_STATUSES
from zbsn.core.engine.history import History, StagedSnapshot
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.unchanged import Known

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


class ListedBill(NamedTuple):
    """What a list row (or a webhook payload) says of a bill before any detail request."""

    bill_id: str
    number: str | None
    vendor_name: str | None
    status: str | None
    source: str


# where an invoice no longer waits on zbsn: nothing to flag when its bill goes back to draft
_GONE_FROM_SERVICENOW = frozenset({ServiceNowStatus.CANCELED, ServiceNowStatus.NOT_FOUND})


def lifecycle_entry(
    history: History, context: RunContext, bill: ListedBill, marker: str | None, previous: Known | None
) -> AuditEntry | None:
    """The entry of a bill the profile does not stage in its status: waiting (skipped), or flagged when it
    went back to draft or pending approval after its invoice was staged. None: the bill is staged (or
    void)."""
    reason = waiting_reason(bill.status, context)
    if reason is None:
        return None
    code = skip_code(bill.status)
    if code is ErrorCode.AWAITING_APPROVAL and previous is not None:
        if previous.status in (AuditStatus.STAGED, AuditStatus.FLAGGED):
            snapshot = history.staged_snapshots([bill.bill_id]).get(bill.bill_id)
            problem = returned_problem(snapshot, bill.status)
            if problem is not None:
                return returned_entry(context, bill, marker, problem)
    return waiting_entry(
        context, bill.bill_id, bill.number, bill.vendor_name, marker, bill.source, reason, code
    )


def returned_problem(snapshot: StagedSnapshot | None, status: str | None) -> Problem | None:
    """The flag of a bill back in `status` (draft, pending approval) whose invoice is in ServiceNow (None:
    no invoice there to speak of: never staged, or canceled or gone in ServiceNow)."""
    if snapshot is None or snapshot.sn_status in _GONE_FROM_SERVICENOW:
        return None
    label = STATUS_LABELS.get((status or "").casefold().strip(), status or "draft")
    name = f"invoice {snapshot.sn_number}" if snapshot.sn_number else "its invoice"
    try:
        state = f"{ServiceNowStatus(snapshot.sn_status or '').label.lower()} in ServiceNow"
    except ValueError:
        state = "in ServiceNow, state not refreshed yet"
    if snapshot.sn_status in LOCKED_STATUSES:
        action = (
            "if the bill is not to be paid, the AP team holds or cancels the invoice there; once approved "
            "again in Zoho, a changed bill is flagged as edited after approval, never overwritten"
        )
    else:
        action = (
            "if the bill is withdrawn, the AP team cancels the invoice there; once approved again in Zoho, "
            "zbsn stages the bill's changes to it"
        )
    message = (
        f"returned to {label} in Zoho Books after {name} was staged ({state}): zbsn writes nothing to "
        f"ServiceNow while the bill waits for approval again; {action}"
    )
    return Problem(ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO, message)


def returned_entry(context: RunContext, bill: ListedBill, marker: str | None, problem: Problem) -> AuditEntry:
    """The flag of a bill returned to draft: no rows, so the audit row keeps the rows its invoice holds."""
    return AuditEntry(
        kind=RecordKind.BILL,
        zoho_id=bill.bill_id,
        external_key=colnames.invoice_key(context.organization_id, bill.bill_id),
        zoho_number=bill.number,
        zoho_modified=marker,
        vendor_name=bill.vendor_name,
        source_payload=bill.source,
        status=AuditStatus.FLAGGED,
        error_code=problem.code.value,
        error_message=problem.message,
        problems=[problem],
    )
