"""The Audit screen's table: its columns and how one audit record reads as a row (staging status and, for a
bill that reached ServiceNow, where its invoice stands there)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from zbsn.core.audit_query import AuditRow
from zbsn.tui.widgets.formatting import STATUS_STYLE, money, servicenow_words, timestamp

# Fixed widths: the table never measures cells, so loading a page stays cheap on the event loop. What an
# operator scans first comes first: the two statuses, the record, and why it is held.
COLUMNS = (
    ("sel", " ", 1),
    ("status", "Status", 9),
    ("servicenow", "ServiceNow", 16),
    ("number", "Number", 14),
    ("problem", "Problem", 32),
    ("vendor", "Vendor", 20),
    ("amount", "Amount", 12),
    ("kind", "Kind", 8),
    ("date", "Doc date", 10),
    ("tries", "Tries", 5),
    ("updated", "Updated (UTC)", 16),
)
PROBLEM_WIDTH = 32
# What the Problem column says of a record staged fine whose invoice ServiceNow holds back.
SERVICENOW_PROBLEMS = {
    "exceptions_found": "ServiceNow exceptions (detail)",
    "posting_failed": "ERP posting failed (detail)",
    "not_found": "invoice gone from ServiceNow",
}


def status_cell(status: str) -> Text:
    """The staging status, coloured by what it asks of the operator."""
    style = {"error": "bold red", "success": "green", "warning": "yellow"}.get(
        STATUS_STYLE.get(status, ""), "dim"
    )
    return Text(status, style=style)


def servicenow_cell(status: str | None) -> Text:
    """Where the invoice stands in ServiceNow at the last refresh (empty: not followed)."""
    words, style = servicenow_words(status)
    return Text(words, style=style)


def row_cells(row: AuditRow, selected: bool) -> list[Any]:
    """One table row."""
    problem = (row.error_message or row.error_code or "") if row.status in ("failed", "flagged") else ""
    problem = problem or SERVICENOW_PROBLEMS.get(row.sn_status or "", "")
    return [
        Text("✓", style="bold") if selected else "",
        status_cell(row.status),
        servicenow_cell(row.sn_status),
        row.zoho_number or row.zoho_id,
        problem[:PROBLEM_WIDTH],
        (row.vendor_name or "")[:20],
        Text(money(row.amount), justify="right"),
        row.kind.replace("_", " "),
        row.doc_date or "",
        str(row.attempts),
        timestamp(row.updated_at),
    ]
