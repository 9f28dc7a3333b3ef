"""The audit detail pane: what this record is, what went wrong, what to do, where its invoice stands in
ServiceNow (state, exceptions with their text, posting, and the history of its status), every attempt."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from zbsn.core.audit_query import AuditDetail
from zbsn.core.audit_servicenow import ServiceNowDetail
from zbsn.core.domain import ServiceNowStatus
from zbsn.tui.widgets.audit_invoice import invoice_from_audit
from zbsn.tui.widgets.formatting import money, servicenow_words, timestamp
from zbsn.tui.widgets.invoice_view import render_invoice

NEXT_STEPS = {
    "UNMAPPED_COST_CENTER": "Map the cost center on the Preview screen (F3), or create it in ServiceNow; "
    "then "
    "replay this record (x).",
    "UNMAPPED_GL_ACCOUNT": "Map the GL account on the Preview screen (F3), or create it in ServiceNow; then "
    "replay (x).",
    "UNMAPPED_SUPPLIER": "Map the supplier on the Preview screen (F3), or create it in ServiceNow; then "
    "replay (x).",
    "MISSING_LEGAL_ENTITY": "Set the legal entity of this profile, then replay (x).",
    "UNKNOWN_CURRENCY": "Add the currency in ServiceNow, then replay (x).",
    "MISSING_EXCHANGE_RATE": "Set the bill's exchange rate in Zoho Books; the next run takes it.",
    "FX_STAGING_UNAVAILABLE": "Have ServiceNow's admin install FX rate staging (Finance - ERP Integration) "
    "and activate its transform map, then replay (x).",
    "UNKNOWN_BUSINESS_OWNER": "Name an active ServiceNow user as business owner (F6 Profiles, or the cost "
    "center's owner), then replay (x).",
    "INVOICE_NOT_STAGED": "The bill this payment settles is not staged yet: fix and replay the bill first.",
    "STAGING_ERROR": "ServiceNow refused the row; read the staging result below, fix it there, "
    "then replay (x).",
    "MALFORMED_RECORD": "The Zoho record is incomplete; correct it in Zoho Books, then replay (x).",
    "NOT_FOUND": "The record no longer exists in Zoho Books; nothing to do.",
    # before DELETED_IN_ZOHO, which matches inside it (codes are matched as substrings below)
    "PAYMENT_DELETED_IN_ZOHO": "Reverse its payment details in ServiceNow (an AP specialist's action); "
    "zbsn never stages them again.",
    "RETURNED_TO_DRAFT_IN_ZOHO": "Nothing is written while the bill waits for approval in Zoho; if it is "
    "withdrawn, the AP team cancels its invoice in ServiceNow. Once approved again, the next run takes it.",
    "VOIDED_IN_ZOHO": "Cancel its invoice in ServiceNow (an AP specialist's action); the next refresh (R) "
    "marks this record cancelled.",
    "DELETED_IN_ZOHO": "Cancel its invoice in ServiceNow (an AP specialist's action); the next refresh (R) "
    "marks this record cancelled.",
}
MAX_PAYLOAD_CHARS = 4000


def next_step(error_code: str | None, status: str, servicenow: ServiceNowDetail | None = None) -> str:
    """The operator's next move for a record in this state (and, once followed, its invoice's)."""
    if servicenow is not None and status in ("staged", "failed"):
        advice = servicenow_step(servicenow)
        if advice is not None and status == "staged":
            return advice
    if status == "staged":
        return "Nothing to do: this record is in ServiceNow staging."
    if status == "pending":
        return "Being sent now, or interrupted mid-send: the next run resends it."
    if error_code is None:
        return "Replay it (x) to try again."
    for code, advice in NEXT_STEPS.items():
        if code.lower() in error_code.lower():
            return advice
    return "Fix the cause shown above, then replay (x)."


def servicenow_step(detail: ServiceNowDetail) -> str | None:
    """What the invoice's ServiceNow status asks of the operator (None: nothing)."""
    status = detail.status
    if status == ServiceNowStatus.EXCEPTIONS_FOUND:
        if detail.replay_fixes:
            return (
                "Re-staging clears what holds it: fix the cause if it is yours (a mapping), then replay (x)."
            )
        return "The AP team resolves it in ServiceNow; the next refresh (R) shows where it went."
    if status == ServiceNowStatus.POSTING_FAILED:
        return "The ERP refused the posting: the AP team sends it to the ERP again from ServiceNow."
    if status == ServiceNowStatus.NOT_FOUND:
        return "ServiceNow no longer has the invoice: replay (x) stages it again, if it should exist."
    if status in (ServiceNowStatus.DRAFT, ServiceNowStatus.PENDING_APPROVAL, ServiceNowStatus.APPROVED):
        return "Nothing to do here: ServiceNow moves it on (refresh with R)."
    return None


def _servicenow(detail: ServiceNowDetail) -> list[RenderableType]:
    """The invoice in ServiceNow: status, exceptions, import errors, posting, history."""
    words, style = servicenow_words(detail.status)
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("Status", Text(words.upper(), style=f"bold {style}"))
    facts.add_row("Invoice", f"{detail.number or '—'} (state {detail.state or '—'})")
    if detail.erp_number or detail.erp_posting_date:
        posted = f", posted {detail.erp_posting_date}" if detail.erp_posting_date else " (not posted yet)"
        facts.add_row("ERP number", f"{detail.erp_number or '—'}{posted}")
    if detail.outbound_status:
        posting = detail.outbound_status + (
            f": {detail.processing_message}" if detail.processing_message else ""
        )
        facts.add_row("Posting", posting)
    if detail.amount_paid:
        facts.add_row("Paid", money(detail.amount_paid, detail.currency))
    facts.add_row("Checked", timestamp(detail.checked_at))
    parts: list[RenderableType] = [_section("In ServiceNow"), facts, Text(detail.summary)]
    for exception in detail.exceptions:
        where = f" (line {exception.get('line')})" if exception.get("line") else ""
        parts.append(
            Text(f"• {exception.get('definition')}{where}: {exception.get('description')}", style="red")
        )
    for error in detail.import_errors:
        parts.append(Text(f"• import error: {error.get('message')}", style="red"))
    return parts


def _servicenow_history(detail: ServiceNowDetail) -> list[RenderableType]:
    """Every change of the invoice's ServiceNow status, oldest first."""
    history = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", expand=True)
    history.add_column("When", no_wrap=True)
    history.add_column("Status", ratio=1)
    history.add_column("Why", ratio=2)
    for change in detail.history:
        before = servicenow_words(change.from_status)[0] or "—"
        history.add_row(
            timestamp(change.at), f"{before} → {servicenow_words(change.to_status)[0]}", change.why or ""
        )
    return [_section(f"ServiceNow history ({len(detail.history)})"), history]


def _payload(value: Any) -> RenderableType:
    if value is None:
        return Text("— none recorded —", style="dim")
    text = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
    if len(text) > MAX_PAYLOAD_CHARS:
        text = text[:MAX_PAYLOAD_CHARS] + "\n… (truncated)"
    return Syntax(text, "json", theme="ansi_dark", word_wrap=True, background_color="default")


def _invoice_or_document(detail: AuditDetail) -> list[RenderableType]:
    """A staged bill's invoice (or credit's memo) as sent, with its documents; an attachment's file."""
    invoice = invoice_from_audit(detail)
    if invoice is not None:
        title = (
            "Credit memo sent to ServiceNow"
            if invoice.kind == "credit memo"
            else "Invoice sent to ServiceNow"
        )
        return [_section(title), *render_invoice(invoice)]
    if detail.row.kind != "attachment" or not detail.documents:
        return []
    shown = detail.documents[0]
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    size = f" ({shown.size_bytes / 1000:.1f} kB)" if shown.size_bytes is not None else ""
    facts.add_row("File", f"{shown.file_name or shown.document_id}{size}")
    facts.add_row("Bill", shown.bill_number or shown.bill_id or "—")
    attached = (
        Text("attached", style="green") if shown.status == "staged" else Text(shown.status, style="red")
    )
    facts.add_row("Outcome", attached)
    facts.add_row("Attachment", shown.attachment_sys_id or "—")
    return [_section("Vendor's document"), facts]


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def render_detail(detail: AuditDetail) -> RenderableType:
    """Rich renderable of the whole pane."""
    row = detail.row
    header = Table.grid(padding=(0, 1))
    header.add_column(style="bold", no_wrap=True)
    header.add_column()
    status_style = {"failed": "red", "staged": "green", "pending": "yellow", "flagged": "yellow"}.get(
        row.status, ""
    )
    header.add_row("Status", Text(row.status.upper(), style=f"bold {status_style}"))
    header.add_row("Record", f"{row.kind.replace('_', ' ')} {row.zoho_number or ''}".strip())
    header.add_row("Vendor", row.vendor_name or "—")
    header.add_row("Amount", money(row.amount, row.currency) or "—")
    header.add_row("Date", row.doc_date or "—")
    header.add_row("Zoho id", row.zoho_id)
    header.add_row("Key", row.external_key)
    header.add_row("Run", str(row.run_id) if row.run_id is not None else "—")
    header.add_row("Updated", timestamp(row.updated_at))
    parts: list[RenderableType] = [header]
    if row.status in ("failed", "flagged"):
        parts += [
            _section("What went wrong" if row.status == "failed" else "Flagged for you"),
            Text(f"{row.error_code or 'error'}: {row.error_message or 'no message'}", style="red"),
        ]
    parts += [_section("What to do next"), Text(next_step(row.error_code, row.status, detail.servicenow))]
    if detail.servicenow is not None:
        parts += _servicenow(detail.servicenow)
    parts += _invoice_or_document(detail)
    if detail.servicenow is not None:
        parts += _servicenow_history(detail.servicenow)
    staging = Table.grid(padding=(0, 1))
    staging.add_column(style="bold")
    staging.add_column()
    staging.add_row("Result", row.staging_status or "—")
    staging.add_row("sys_id", detail.sn_sys_id or "—")
    staging.add_row("Import set", detail.sn_import_set or "—")
    parts += [_section("ServiceNow staging result"), staging]
    attempts = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in ("#", "Started", "Run", "Outcome", "Error"):
        attempts.add_column(column)
    for attempt in detail.attempts:
        outcome = attempt.staging_status or attempt.status
        attempts.add_row(
            str(attempt.attempt_no),
            timestamp(attempt.started_at),
            str(attempt.run_id or "—"),
            outcome,
            attempt.error_message or "",
        )
    parts += [_section(f"Attempts ({len(detail.attempts)})"), attempts]
    parts += [_section("Source record (Zoho)"), _payload(detail.source_payload)]
    parts += [_section("Mapped payload (sent to ServiceNow)"), _payload(detail.mapped_payload)]
    return Group(*parts)


class AuditDetailPane(VerticalScroll):
    """Scrollable detail of the highlighted record."""

    DEFAULT_CSS = """
    AuditDetailPane { border: round $primary-darken-2; padding: 0 1; }
    AuditDetailPane > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = "Record detail"

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Highlight a record to see its detail.", id="detail-body")

    def show(self, detail: AuditDetail | None) -> None:
        body = self.query_one("#detail-body", Static)
        if detail is None:
            body.update("This record no longer exists.")
            return
        body.update(render_detail(detail))
        self.scroll_home(animate=False)

    def show_message(self, text: str) -> None:
        self.query_one("#detail-body", Static).update(text)
