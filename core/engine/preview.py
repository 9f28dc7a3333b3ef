"""Dry run: every bill of a period (or every bill changed since the cursor) as the invoice it would become.

Per line its cost center and GL account, per bill what is missing; counts, totals per currency, and how many
bills each missing mapping blocks. Reads Zoho and ServiceNow masters; writes nothing to ServiceNow (the
local mapping tables are refreshed, as a run would). "Changed" means what a run would read: the bills
cursor, the same change marker and the same "unchanged" rule (`unchanged.py`). A bill Zoho cannot serve
(deleted since it was listed, or failing) is shown with that problem; the rest of the preview goes on.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from zbsn.core.clock import Clock
from zbsn.core.db.engine import session_scope
from zbsn.core.domain import RecordKind
from zbsn.core.engine import cursors
from zbsn.core.engine.alignment import refresh_mappings
from zbsn.core.engine.attachment_preview import AttachmentPreview, attachment_previews
from zbsn.core.engine.bill_lifecycle import returned_problem, skip_code, waiting_reason
from zbsn.core.engine.credit_preview import CreditPreview, preview_credits
from zbsn.core.engine.details import SourceUnavailable, fetch_details
from zbsn.core.engine.history import History
from zbsn.core.engine.invoice_facts import InvoiceFacts, invoice_facts
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.stages.bills import BILLS
from zbsn.core.engine.staging_values import money
from zbsn.core.engine.transform import InvoiceDocument, bill_to_invoice
from zbsn.core.engine.unchanged import is_unchanged
from zbsn.core.zoho.models import RecordError, ZohoBill, ZohoBillSummary

CSV_COLUMNS = (
    "bill_number",
    "bill_id",
    "external_key",
    "vendor",
    "supplier_code",
    "date",
    "currency",
    "exchange_rate",
    "bill_total",
    "outcome",
    "line",
    "line_description",
    "line_amount",
    "line_tax",
    "cost_center",
    "cost_center_number",
    "gl_account",
    "gl_number",
    "missing",
)
# Details are asked for a batch at a time (as a run does), one after the other as the preview always has:
# concurrent requests would wait on the Zoho client's budget, whose locks then belong to this event loop,
# and a caller sharing that budget that previews in one loop and runs in another (one `asyncio.run` each,
# as tests/security/test_query_injection.py does) would find them bound to the wrong loop (zoho/budget.py).
_BATCH = 100
PREVIEW_OUTCOMES = ("ready", "blocked", "cancel", "unreadable", "waiting")
_DETAIL_CONCURRENCY = 1


@dataclass(slots=True)
class PreviewItem:
    """One bill in the preview: its invoice document, or why it cannot be read."""

    bill_id: str
    bill_number: str | None
    outcome: str  # "ready" | "blocked" | "cancel" | "unreadable" | "waiting" (for approval in Zoho)
    document: InvoiceDocument | None = None
    problems: list[Problem] = field(default_factory=list)
    attachments: list[AttachmentPreview] = field(default_factory=list)  # the vendor's invoice document
    listed: ZohoBillSummary | None = None  # the list row of a bill shown without its detail (waiting)
    facts: InvoiceFacts | None = None  # due date, terms label, remit-to, per-line taxes (read bills only)


@dataclass(slots=True)
class PreviewReport:
    """The whole preview, with counts and totals."""

    mode: str  # "period" | "changed"
    items: list[PreviewItem] = field(default_factory=list)
    unchanged: int = 0
    zoho_requests: int = 0
    credits: list[CreditPreview] = field(default_factory=list)  # vendor credits as credit memos

    @property
    def counts(self) -> dict[str, int]:
        """Bills per outcome."""
        counter = Counter(item.outcome for item in self.items)
        return {name: counter.get(name, 0) for name in PREVIEW_OUTCOMES}

    @property
    def totals(self) -> dict[str, dict[str, Decimal]]:
        """Per outcome, the bill totals per currency."""
        totals: dict[str, dict[str, Decimal]] = {}
        for item in self.items:
            if item.document is None:
                continue
            per_currency = totals.setdefault(item.outcome, {})
            currency = item.document.currency
            per_currency[currency] = per_currency.get(currency, Decimal(0)) + item.document.total
        return totals

    @property
    def blocked_by(self) -> dict[tuple[str, str], int]:
        """(error code, what is missing) -> number of bills it blocks."""
        counter: Counter[tuple[str, str]] = Counter()
        for item in self.items:
            if item.outcome == "waiting":  # not blocked: Zoho has yet to approve it
                continue
            for key in {(p.code.value, p.subject or p.message) for p in item.problems}:
                counter[key] += 1
        return dict(counter.most_common())

    def csv_rows(self) -> Iterator[dict[str, str]]:
        """One row per invoice line (one per bill without lines)."""
        for item in self.items:
            doc = item.document
            listed = item.listed
            missing = "; ".join(p.message for p in item.problems)
            base = {
                "bill_number": item.bill_number or "",
                "bill_id": item.bill_id,
                "outcome": item.outcome,
                "external_key": doc.external_key if doc else "",
                "vendor": (doc.vendor_name or "") if doc else ((listed.vendor_name or "") if listed else ""),
                "supplier_code": (doc.supplier_code or "") if doc else "",
                "date": (doc.date or "") if doc else "",
                "currency": doc.currency if doc else (listed.currency_code if listed else ""),
                "bill_total": money(doc.total) if doc else (money(listed.total) if listed else ""),
                "exchange_rate": str(doc.exchange_rate or "") if doc else "",
                "missing": missing,
            }
            lines = doc.lines if doc else []
            if not lines:
                yield {column: base.get(column, "") for column in CSV_COLUMNS}
            for number, line in enumerate(lines, start=1):
                yield {
                    **{column: base.get(column, "") for column in CSV_COLUMNS},
                    "line": str(number),
                    "line_description": line.description or "",
                    "line_amount": money(line.amount),
                    "line_tax": money(line.tax),
                    "cost_center": line.cost_center or "",
                    "cost_center_number": line.cost_center_number or "",
                    "gl_account": line.gl_account or "",
                    "gl_number": line.gl_number or "",
                }

    def to_csv(self, target: str | Path | TextIO) -> None:
        """Write the preview as CSV to a path or an open text stream."""
        if isinstance(target, str | Path):
            with Path(target).open("w", newline="", encoding="utf-8") as handle:
                self._write(handle)
        else:
            self._write(target)

    def _write(self, handle: TextIO) -> None:
        writer = csv.DictWriter(handle, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        writer.writerows(self.csv_rows())

    def csv_text(self) -> str:
        """The CSV as a string."""
        buffer = io.StringIO()
        self._write(buffer)
        return buffer.getvalue()


async def build_preview(
    db: sa.Engine,
    context: RunContext,
    zoho: ZohoSource,
    servicenow: ServiceNowTarget,
    clock: Clock,
    *,
    date_start: date | None = None,
    date_end: date | None = None,
    attachment_max_bytes: int = 10 * 1024 * 1024,
) -> PreviewReport:
    """Preview a period (`date_start`/`date_end`) or, with neither, what changed since the bills cursor."""
    by_period = date_start is not None or date_end is not None
    zoho_before = zoho.request_count
    _masters, index = await refresh_mappings(db, context, zoho, servicenow, clock)
    report = PreviewReport(mode="period" if by_period else "changed")
    since = None
    if not by_period:
        with session_scope(db) as session:
            row = cursors.read_cursor(session, context.profile_id, cursors.BILLS)
        since = cursors.window_start(row.cursor_value if row else None, context.overlap_seconds)
    summaries: list[ZohoBillSummary] = []
    async for item in zoho.iter_bills(modified_since=since, date_start=date_start, date_end=date_end):
        if isinstance(item, RecordError):
            report.items.append(
                PreviewItem(
                    item.record_id or "?",
                    None,
                    "unreadable",
                    problems=[Problem(ErrorCode.MALFORMED_RECORD, item.reason)],
                )
            )
        else:
            summaries.append(item)
    known = History(db, context.profile_id).known(RecordKind.BILL, [s.bill_id for s in summaries])
    to_show: list[ZohoBillSummary] = []
    for summary in summaries:
        if not by_period and is_unchanged(known.get(summary.bill_id), BILLS.marker(summary)):
            report.unchanged += 1
        else:
            to_show.append(summary)
    for start in range(0, len(to_show), _BATCH):
        batch = to_show[start : start + _BATCH]
        report.items.extend(await _items(zoho, context, index, batch, (db, attachment_max_bytes)))
    _flag_returned(report.items, History(db, context.profile_id))
    report.credits = await preview_credits(db, context, zoho, index, date_start, date_end)
    report.zoho_requests = zoho.request_count - zoho_before
    return report


def _flag_returned(items: list[PreviewItem], history: History) -> None:
    """Bills waiting for approval whose invoice was staged before: shown with the flag a run records
    (RETURNED_TO_DRAFT_IN_ZOHO: back in draft in Zoho, the invoice's state in ServiceNow, what to do)."""
    waiting = [
        item
        for item in items
        if item.outcome == "waiting" and [p.code for p in item.problems] == [ErrorCode.AWAITING_APPROVAL]
    ]
    snapshots = history.staged_snapshots(item.bill_id for item in waiting) if waiting else {}
    for item in waiting:
        status = item.listed.status if item.listed is not None else None
        problem = returned_problem(snapshots.get(item.bill_id), status)
        if problem is not None:
            item.problems = [problem]


async def _items(
    zoho: ZohoSource,
    context: RunContext,
    index: MappingIndex,
    summaries: list[ZohoBillSummary],
    attachments: tuple[sa.Engine, int],
) -> list[PreviewItem]:
    """The preview items of a batch of listed bills, in list order (details fetched for all but voids and
    bills waiting for approval in Zoho); `attachments` (the database and the size limit) decides what each
    bill's document would do."""
    to_fetch = [
        s.bill_id for s in summaries if s.status != "void" and waiting_reason(s.status, context) is None
    ]
    fetched = await fetch_details(
        to_fetch, zoho.get_bill, entity="bill", concurrency=_DETAIL_CONCURRENCY, per_record_failures=True
    )
    details = dict(zip(to_fetch, fetched, strict=True))
    items = [_item(s, details.get(s.bill_id), context, index) for s in summaries]
    bills = [d for d in fetched if isinstance(d, ZohoBill) and d.documents]
    if bills:
        db, max_bytes = attachments
        ids = [document.document_id for bill in bills for document in bill.documents]
        known = History(db, context.profile_id).known(RecordKind.ATTACHMENT, ids)
        for item in items:
            detail = details.get(item.bill_id)
            if isinstance(detail, ZohoBill):
                item.attachments = attachment_previews(detail, max_bytes, known)
    return items


def _item(
    summary: ZohoBillSummary, detail: ZohoBill | RecordError | None, context: RunContext, index: MappingIndex
) -> PreviewItem:
    if summary.status == "void":
        return PreviewItem(summary.bill_id, summary.bill_number, "cancel")
    waiting = waiting_reason(summary.status, context)
    if waiting is not None:
        problem = Problem(skip_code(summary.status), waiting)
        return PreviewItem(
            summary.bill_id, summary.bill_number, "waiting", problems=[problem], listed=summary
        )
    if detail is None:
        problem = Problem(ErrorCode.NOT_FOUND, "deleted in Zoho Books since it was listed")
        return PreviewItem(summary.bill_id, summary.bill_number, "unreadable", problems=[problem])
    if isinstance(detail, RecordError):
        code = (
            ErrorCode.SOURCE_UNAVAILABLE
            if isinstance(detail, SourceUnavailable)
            else ErrorCode.MALFORMED_RECORD
        )
        problem = Problem(code, detail.reason)
        return PreviewItem(summary.bill_id, summary.bill_number, "unreadable", problems=[problem])
    document = bill_to_invoice(detail, context, index)
    outcome = "ready" if document.ok else "blocked"
    item = PreviewItem(detail.bill_id, detail.bill_number, outcome, document, document.problems)
    item.facts = invoice_facts(detail, context)
    return item
