"""What the preview says of vendor credits: each credit of the period (or changed since the vendor credits
cursor) as the credit memo it would become, with its settlements and what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from zbsn.core.db.engine import session_scope
from zbsn.core.domain import RecordKind
from zbsn.core.engine import cursors
from zbsn.core.engine.credit_entries import NOT_STAGED_STATES
from zbsn.core.engine.history import History
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.ports import RunContext, ZohoSource
from zbsn.core.engine.problems import Problem
from zbsn.core.engine.stages.vendor_credits import VENDOR_CREDITS, CreditSource
from zbsn.core.engine.transform import InvoiceDocument
from zbsn.core.engine.transform_credits import credit_to_memo
from zbsn.core.engine.unchanged import is_unchanged
from zbsn.core.zoho.models import RecordError, ZohoVendorCredit


@dataclass(slots=True)
class CreditPreview:
    """One vendor credit as the run would treat it."""

    vendor_credit_id: str
    number: str
    vendor_name: str | None
    currency: str
    total: Decimal
    outcome: str  # "ready" | "blocked" (what is missing, or a bill not staged yet) | "skip" | "unreadable"
    settlements: list[tuple[str, Decimal]] = field(default_factory=list)  # (bill id, amount applied)
    problems: list[Problem] = field(default_factory=list)
    note: str = ""
    date: str | None = None  # the credit's date (yyyy-mm-dd)
    bill_numbers: dict[str, str] = field(default_factory=dict)  # settled bill id -> its number (Zoho says)
    memo: InvoiceDocument | None = None  # the credit memo with its lines (read credits only)


async def preview_credits(
    db: sa.Engine,
    context: RunContext,
    zoho: ZohoSource,
    index: MappingIndex,
    date_start: date | None,
    date_end: date | None,
) -> list[CreditPreview]:
    """The credits a run would stage (a period's, or those changed since the cursor), mapped as it would."""
    if not isinstance(zoho, CreditSource):
        return []
    by_period = date_start is not None or date_end is not None
    since = None
    if not by_period:
        with session_scope(db) as session:
            row = cursors.read_cursor(session, context.profile_id, cursors.VENDOR_CREDITS)
        since = cursors.window_start(row.cursor_value if row else None, context.overlap_seconds)
    history = History(db, context.profile_id)
    listed = [
        c async for c in zoho.iter_vendor_credits(modified_since=since) if not isinstance(c, RecordError)
    ]
    if by_period:
        listed = [
            c
            for c in listed
            if not (date_start and c.date and c.date < date_start)
            and not (date_end and c.date and c.date > date_end)
        ]
    else:
        known = history.known(RecordKind.VENDOR_CREDIT, [c.vendor_credit_id for c in listed])
        listed = [
            c for c in listed if not is_unchanged(known.get(c.vendor_credit_id), VENDOR_CREDITS.marker(c))
        ]
    previews: list[CreditPreview] = []
    for summary in listed:
        base = CreditPreview(
            summary.vendor_credit_id,
            summary.vendor_credit_number,
            summary.vendor_name,
            summary.currency_code,
            summary.total,
            "skip",
            date=summary.date.isoformat() if summary.date else None,
        )
        if summary.status in NOT_STAGED_STATES:
            base.note = NOT_STAGED_STATES[summary.status]
            previews.append(base)
            continue
        detail = await zoho.get_vendor_credit(summary.vendor_credit_id)
        if not isinstance(detail, ZohoVendorCredit):
            base.outcome, base.note = "unreadable", detail.reason
            previews.append(base)
            continue
        staged = history.staged_bills(a.bill_id for a in detail.bills_credited)
        document = credit_to_memo(detail, context, index, staged)
        base.outcome = "ready" if document.ok else "blocked"
        base.settlements, base.problems = document.settlements, list(document.problems)
        base.memo = document.memo
        base.bill_numbers = {a.bill_id: a.bill_number for a in detail.bills_credited if a.bill_number}
        base.note = "; ".join(p.message for p in document.problems)
        previews.append(base)
    return previews
