"""A bill changed in Zoho after zbsn staged it: what ServiceNow cannot take from an import set is flagged.

Two cases, checked against the rows the invoice was last staged with (the audit row's mapped payload):
- the invoice is approved, posting, posted (pending payment) or paid in ServiceNow (the status the last
  refresh read, `sn_status.py`) and the bill's content differs: re-staging would rewrite an invoice the AP
  team approved, so the bill is flagged for the operator and nothing is written;
- lines the invoice holds are gone from the bill: an import set adds and updates lines but cannot delete
  one (sn-ref §7.4), so the invoice would keep them; the bill is flagged with the lines to remove there.
A change that only moves Zoho's status or balance (a payment) changes no staged value and stages as before.
An approved invoice's flag keeps the rows ServiceNow holds as its payload, so every later change is compared
with them again; a removed line is reported once (the flag keeps the bill's new rows, which its next change
stages). Either way its payments still count the invoice as staged (`History.staged_bills`).
Only the columns both versions carry are compared: a column a newer zbsn sends is no change of the bill.
"""

from __future__ import annotations

from collections.abc import Sequence

from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine import columns as col
from zbsn.core.engine.audit_writer import AuditEntry, rows_from_payload
from zbsn.core.engine.history import History, StagedSnapshot
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.servicenow.models import StagingRow

# where an invoice is no longer zbsn's to rewrite (the reading of issue 15's status refresh)
LOCKED_STATUSES = frozenset(
    {
        ServiceNowStatus.APPROVED,
        ServiceNowStatus.POSTING_FAILED,
        ServiceNowStatus.POSTED,
        ServiceNowStatus.PAID,
    }
)
_HEADER_LABELS = {
    "u_amount_invoiced": "amount",
    "u_subtotal": "subtotal",
    "u_tax_amount": "tax",
    "u_other_charges": "other charges",
    "u_discounts": "discounts",
    "u_invoice_date": "invoice date",
    "u_due_date": "due date",
    "u_supplier": "supplier",
    "u_supplier_invoice_number": "supplier invoice number",
    "u_currency": "currency",
    "u_payment_terms": "payment terms",
}


def check_changes(history: History, entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """The entries with each bill that cannot be re-staged as it is replaced by its flag."""
    candidates = [
        e for e in entries if e.kind == RecordKind.BILL and e.status == AuditStatus.PENDING and e.rows
    ]
    if not candidates:
        return list(entries)
    snapshots = history.staged_snapshots(e.zoho_id for e in candidates)
    return [_checked(entry, snapshots.get(entry.zoho_id)) for entry in entries]


def _checked(entry: AuditEntry, snapshot: StagedSnapshot | None) -> AuditEntry:
    if entry.status != AuditStatus.PENDING or not entry.rows or snapshot is None:
        return entry
    held = rows_from_payload(snapshot.mapped_payload) if snapshot.mapped_payload else []
    locked = snapshot.sn_status in LOCKED_STATUSES
    if not held:
        if locked:  # a flagged bill edited again: its invoice stays as the AP team approved it
            return _flag(entry, ErrorCode.EDITED_AFTER_APPROVAL, _locked_message(snapshot, []), held)
        return entry
    removed = _removed_lines(held, entry.rows)
    changes = _changes(held, entry.rows)
    if locked and (changes or removed):
        what = changes + ([f"line {', '.join(removed)} removed"] if removed else [])
        return _flag(entry, ErrorCode.EDITED_AFTER_APPROVAL, _locked_message(snapshot, what), held)
    if removed:
        name = f"invoice {snapshot.sn_number}" if snapshot.sn_number else "its invoice"
        message = (
            f"line {', '.join(removed)} removed in Zoho Books: an import set cannot delete an invoice line, "
            f"so {name} in ServiceNow keeps it; remove it there (zbsn stages the bill again at its next "
            "change)"
        )
        # reported once: the next change is compared with the bill as it is now, and staged
        return _flag(entry, ErrorCode.LINES_REMOVED_IN_ZOHO, message, entry.rows)
    return entry


def _locked_message(snapshot: StagedSnapshot, what: list[str]) -> str:
    name = f"invoice {snapshot.sn_number}" if snapshot.sn_number else "its invoice"
    try:
        state = ServiceNowStatus(snapshot.sn_status or "").label
    except ValueError:
        state = snapshot.sn_status or "approved"
    changed = f" ({'; '.join(what)})" if what else ""
    return (
        f"edited in Zoho Books{changed} after {name} was {state.lower()} in ServiceNow: zbsn does not "
        "overwrite it; the AP team corrects it there (or cancels it and the bill is staged as a new invoice)"
    )


def _flag(entry: AuditEntry, code: ErrorCode, message: str, held: list[StagingRow]) -> AuditEntry:
    """The bill flagged, nothing written: its payload stays the rows ServiceNow holds (compared next time)."""
    entry.status = AuditStatus.FLAGGED
    entry.error_code, entry.error_message = code.value, message
    entry.problems = [Problem(code, message)]
    entry.rows = held
    return entry


def _line_numbers(rows: Sequence[StagingRow]) -> dict[str, StagingRow]:
    return {str(r.values.get("u_erp_line_number", "")): r for r in rows if r.table == col.INVOICE_LINE_TABLE}


def _removed_lines(held: Sequence[StagingRow], new: Sequence[StagingRow]) -> list[str]:
    before, after = _line_numbers(held), _line_numbers(new)
    return [number for number in before if number not in after]


def _changes(held: Sequence[StagingRow], new: Sequence[StagingRow]) -> list[str]:
    """What differs between the staged rows and the new ones, in the columns both carry."""
    found: list[str] = []
    old_header = next((r for r in held if r.table == col.INVOICE_TABLE), None)
    new_header = next((r for r in new if r.table == col.INVOICE_TABLE), None)
    if old_header is not None and new_header is not None:
        for column, label in _HEADER_LABELS.items():
            before, after = old_header.values.get(column), new_header.values.get(column)
            if before is not None and after is not None and before != after:
                found.append(f"{label} {before or '(none)'} -> {after or '(none)'}")
    old_lines, new_lines = _line_numbers(held), _line_numbers(new)
    added = [n for n in new_lines if n not in old_lines]
    edited = [
        n for n, row in new_lines.items() if n in old_lines and _differs(old_lines[n].values, row.values)
    ]
    if added:
        found.append(f"line {', '.join(added)} added")
    if edited:
        found.append(f"line {', '.join(edited)} changed")
    old_taxes = {r.source_ref: r.values for r in held if r.table == col.INVOICE_TAX_LINE_TABLE}
    new_taxes = {r.source_ref: r.values for r in new if r.table == col.INVOICE_TAX_LINE_TABLE}
    if set(old_taxes) != set(new_taxes) or any(_differs(old_taxes[k], new_taxes[k]) for k in old_taxes):
        if not edited and not added:
            found.append("taxes changed")
    return found


def _differs(before: dict[str, str], after: dict[str, str]) -> bool:
    return any(before[k] != after[k] for k in before.keys() & after.keys())
