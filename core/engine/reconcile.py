"""Reconciliation for a period: bills in Zoho vs invoices staged in ServiceNow, and what differs.

Zoho side: the period's bills (list rows, no detail requests), void ones apart. ServiceNow side:
`sn_shop_invoice` rows whose external number carries this org's prefix, read back through the Table API
with an escaped query, counted and totalled per ServiceNow status (draft, exceptions found, ... paid: what
ServiceNow holds per state, `servicenow_by_status`). A bill paid in Zoho whose invoice ServiceNow does not
hold as paid is a state difference (`payment_mismatch`, in `state_differences`), and so is the reverse (an
invoice paid in ServiceNow whose Zoho payment was deleted), as is a bill sent back for approval in Zoho whose
invoice ServiceNow holds (`status_mismatch`). A difference the audit log
explains (a failed record with its reason; a void, a return to draft or a deleted payment flagged for the
AP team; a payment that failed) is
`explained`; the report balances when every difference is explained and the totals agree once those are set
aside.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlmodel import col, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.bill_lifecycle import AWAITING_APPROVAL_STATUSES, STATUS_LABELS, waiting_reason
from zbsn.core.engine.credit_reconcile import CreditReconciliation, reconcile_credits
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.sn_status import status_of_state
from zbsn.core.engine.transform_credits import credit_key
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.zoho.models import RecordError

TOLERANCE = Decimal("0.01")
INVOICE_FIELDS = (
    "sys_id",
    "number",
    "external_invoice_number",
    "invoice_amount",
    "currency",
    "state",
    "invoice_date",
    "supplier_invoice_number",
)


@dataclass(frozen=True, slots=True)
class Difference:
    """One bill/invoice that does not agree between the two systems."""

    # missing_in_servicenow | missing_in_zoho | amount_mismatch | status_mismatch | payment_mismatch
    kind: str
    external_key: str
    bill_number: str | None
    zoho_amount: Decimal | None
    servicenow_amount: Decimal | None
    detail: str
    explained: bool = False  # the audit log holds a failed record saying why


@dataclass(slots=True)
class Side:
    """Counts and totals (per currency) of one system for the period."""

    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, amount: Decimal) -> None:
        self.count += 1
        self.totals[currency] = self.totals.get(currency, Decimal(0)) + amount


@dataclass(slots=True)
class ReconciliationReport:
    """Zoho vs ServiceNow for one period."""

    date_start: date | None
    date_end: date | None
    zoho: Side = field(default_factory=Side)
    servicenow: Side = field(default_factory=Side)
    explained: Side = field(default_factory=Side)  # bills not staged for a reason in the audit log
    zoho_void: int = 0
    zoho_waiting: int = 0  # bills waiting for approval in Zoho (not staged yet: nothing to compare)
    servicenow_canceled: int = 0
    differences: list[Difference] = field(default_factory=list)
    # ServiceNowStatus value -> the period's invoices ServiceNow holds in it (canceled ones included)
    servicenow_by_status: dict[str, Side] = field(default_factory=dict)
    # invoices in both systems whose state disagrees: paid in Zoho, not paid in ServiceNow
    state_differences: list[Difference] = field(default_factory=list)
    # vendor credits vs credit memos, and the settlements staged (credit_reconcile.py)
    credits: CreditReconciliation = field(default_factory=CreditReconciliation)

    @property
    def unexplained(self) -> list[Difference]:
        """Differences (of presence, amount or state) no audit record accounts for."""
        return [d for d in (*self.differences, *self.state_differences) if not d.explained]

    @property
    def balanced(self) -> bool:
        """True when Zoho = ServiceNow + explained failures, in count and in every currency's total."""
        if self.unexplained or self.zoho.count != self.servicenow.count + self.explained.count:
            return False
        currencies = set(self.zoho.totals) | set(self.servicenow.totals) | set(self.explained.totals)
        return all(
            abs(
                self.zoho.totals.get(c, Decimal(0))
                - self.servicenow.totals.get(c, Decimal(0))
                - self.explained.totals.get(c, Decimal(0))
            )
            <= TOLERANCE
            for c in currencies
        )


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


async def reconcile(
    db: sa.Engine,
    context: RunContext,
    zoho: ZohoSource,
    servicenow: ServiceNowTarget,
    date_start: date | None = None,
    date_end: date | None = None,
) -> ReconciliationReport:
    """Compare the period's bills with the staged invoices (see the module docstring)."""
    report = ReconciliationReport(date_start, date_end)
    bills: dict[str, tuple[str, Decimal, str, str]] = {}  # key -> (number, total, currency, status)
    async for item in zoho.iter_bills(date_start=date_start, date_end=date_end):
        if isinstance(item, RecordError):
            continue
        key = colnames.invoice_key(context.organization_id, item.bill_id)
        bills[key] = (item.bill_number, item.total, item.currency_code, item.status)
    currencies = {
        r["sys_id"]: str(r.get("code", ""))
        for r in await servicenow.get_records("fx_currency", EncodedQuery(), ["sys_id", "code"])
    }
    prefix = colnames.invoice_key(context.organization_id, "")
    query = EncodedQuery().starts_with("external_invoice_number", prefix)
    invoices: dict[str, dict[str, object]] = {}
    for record in await servicenow.get_records(colnames.INVOICE_TARGET_TABLE, query, INVOICE_FIELDS):
        invoice_date = str(record.get("invoice_date") or "")[:10]
        if date_start and invoice_date and invoice_date < date_start.isoformat():
            continue
        if date_end and invoice_date and invoice_date > date_end.isoformat():
            continue
        invoices[str(record.get("external_invoice_number"))] = record
    memo_prefix = credit_key(context.organization_id, "")
    memos = {k: invoices.pop(k) for k in [k for k in invoices if k.startswith(memo_prefix)]}
    report.credits = await reconcile_credits(db, context, zoho, memos, currencies, date_start, date_end)
    failures = _failed_audits(db, context.profile_id)
    flagged = _flagged_audits(db, context.profile_id)
    unpaid = _failed_payment_bills(db, context.profile_id)
    unpaid_again = _deleted_payment_bills(db, context.profile_id)
    for held in invoices.values():
        side = report.servicenow_by_status.setdefault(
            status_of_state(str(held.get("state") or "")).value, Side()
        )
        code = currencies.get(str(held.get("currency")), str(held.get("currency")))
        side.add(code, _decimal(held.get("invoice_amount")) or Decimal(0))
    for key, (number, total, currency, status) in bills.items():
        invoice = invoices.get(key)
        if status == "void":
            report.zoho_void += 1
            if invoice is not None and invoice.get("state") != colnames.CANCELED_STATE:
                why = flagged.get(key)
                report.differences.append(
                    Difference(
                        "status_mismatch",
                        key,
                        number,
                        total,
                        _decimal(invoice.get("invoice_amount")),
                        f"void in Zoho, not canceled in ServiceNow: {why}"
                        if why
                        else "void in Zoho, not canceled in ServiceNow",
                        why is not None,
                    )
                )
            continue
        if waiting_reason(status, context) is not None and invoice is None:
            report.zoho_waiting += 1
            continue
        report.zoho.add(currency, total)
        if invoice is None or invoice.get("state") == colnames.CANCELED_STATE:
            reason = failures.get(key)
            if reason is not None:
                report.explained.add(currency, total)
            what = "canceled in ServiceNow, open in Zoho" if invoice is not None else "not in ServiceNow"
            kind = "status_mismatch" if invoice is not None else "missing_in_servicenow"
            report.differences.append(
                Difference(
                    kind,
                    key,
                    number,
                    total,
                    None,
                    f"{what}: {reason}" if reason else what,
                    reason is not None,
                )
            )
            if invoice is not None:
                report.servicenow_canceled += 1
            continue
        amount = _decimal(invoice.get("invoice_amount"))
        report.servicenow.add(
            currencies.get(str(invoice.get("currency")), str(invoice.get("currency"))), amount or Decimal(0)
        )
        if amount is None or abs(amount - total) > TOLERANCE:
            report.differences.append(
                Difference(
                    "amount_mismatch", key, number, total, amount, f"Zoho {total} vs ServiceNow {amount}"
                )
            )
        state = str(invoice.get("state") or "")
        bill_id = key.removeprefix(colnames.invoice_key(context.organization_id, ""))
        if status in AWAITING_APPROVAL_STATUSES:  # staged, then sent back for approval in Zoho
            why = flagged.get(key)
            label = status_of_state(state or None).label.lower()
            what = f"{STATUS_LABELS.get(status, status)} in Zoho, {label} in ServiceNow"
            report.state_differences.append(
                _told("status_mismatch", key, number, total, amount, what, why, bool(why))
            )
        if state == "paid" and status != "paid":  # a payment deleted in Zoho: ServiceNow keeps its details
            why = unpaid_again.get(bill_id)
            what = f"paid in ServiceNow, {status.replace('_', ' ')} in Zoho"
            report.state_differences.append(
                _told("payment_mismatch", key, number, total, amount, what, why, bool(why))
            )
        if status == "paid" and state != "paid":
            reason = unpaid.get(bill_id)
            label = status_of_state(state or None).label.lower()
            what = f"paid in Zoho, {label} in ServiceNow"
            report.state_differences.append(
                _told("payment_mismatch", key, number, total, amount, what, reason, reason is not None)
            )
    for key, invoice in invoices.items():
        if key in bills:
            continue
        if invoice.get("state") == colnames.CANCELED_STATE:
            report.servicenow_canceled += 1
            continue
        amount = _decimal(invoice.get("invoice_amount"))
        report.servicenow.add(currencies.get(str(invoice.get("currency")), ""), amount or Decimal(0))
        report.differences.append(
            Difference(
                "missing_in_zoho",
                key,
                str(invoice.get("supplier_invoice_number")),
                None,
                amount,
                "staged but no longer a bill of this period in Zoho",
            )
        )
    return report


def _told(
    kind: str,
    key: str,
    number: str | None,
    total: Decimal | None,
    amount: Decimal | None,
    what: str,
    why: str | None,
    explained: bool,
) -> Difference:
    """A state difference, followed by the audit log's reason for it when it holds one."""
    return Difference(kind, key, number, total, amount, f"{what}: {why}" if why else what, explained)


def _flagged_audits(db: sa.Engine, profile_id: int) -> dict[str, str]:
    """external key -> the flag of the bills voided or deleted in Zoho whose invoices the AP team cancels."""
    with session_scope(db) as session:
        query = select(AuditRecord.external_key, AuditRecord.error_message).where(
            AuditRecord.profile_id == profile_id,
            AuditRecord.kind == RecordKind.BILL,
            AuditRecord.status == AuditStatus.FLAGGED,
        )
        return {key: f"flagged for the AP team ({message})" for key, message in session.exec(query)}


def _failed_payment_bills(db: sa.Engine, profile_id: int) -> dict[str, str]:
    """bill id -> "CODE: message" of the failed (or pending) payments that settle it."""
    with session_scope(db) as session:
        query = select(AuditRecord.source_payload, AuditRecord.error_code, AuditRecord.error_message).where(
            AuditRecord.profile_id == profile_id,
            AuditRecord.kind == RecordKind.PAYMENT,
            col(AuditRecord.status).in_([AuditStatus.FAILED, AuditStatus.PENDING]),
        )
        rows = session.exec(query).all()
    found: dict[str, str] = {}
    for payload, code, message in rows:
        try:
            data = json.loads(payload or "{}")
        except ValueError:
            continue
        bills = data.get("bills") if isinstance(data, dict) else None
        for allocation in bills if isinstance(bills, list) else []:
            if isinstance(allocation, dict) and allocation.get("bill_id"):
                found[str(allocation["bill_id"])] = (
                    f"payment {code or 'pending'}: {message or 'not staged yet'}"
                )
    return found


def _deleted_payment_bills(db: sa.Engine, profile_id: int) -> dict[str, str]:
    """bill id -> the flag of the vendor payment deleted in Zoho that paid it (its details stay in
    ServiceNow)."""
    with session_scope(db) as session:
        query = select(AuditRecord.source_payload, AuditRecord.error_message).where(
            AuditRecord.profile_id == profile_id,
            AuditRecord.kind == RecordKind.PAYMENT,
            AuditRecord.status == AuditStatus.FLAGGED,
            AuditRecord.error_code == ErrorCode.PAYMENT_DELETED_IN_ZOHO.value,
        )
        rows = session.exec(query).all()
    found: dict[str, str] = {}
    for bill_id, message in _paid_bills(rows):
        found[bill_id] = f"flagged for the AP team ({message})"
    return found


def _paid_bills(rows: Sequence[tuple[str | None, str | None]]) -> list[tuple[str, str | None]]:
    """(bill id, the row's text) for every bill the stored payment payloads pay."""
    found: list[tuple[str, str | None]] = []
    for payload, text in rows:
        try:
            data = json.loads(payload or "{}")
        except ValueError:
            continue
        bills = data.get("bills") if isinstance(data, dict) else None
        for allocation in bills if isinstance(bills, list) else []:
            if isinstance(allocation, dict) and allocation.get("bill_id"):
                found.append((str(allocation["bill_id"]), text))
    return found


def _failed_audits(db: sa.Engine, profile_id: int) -> dict[str, str]:
    """external key -> "CODE: message" of the failed bill records."""
    with session_scope(db) as session:
        query = select(AuditRecord.external_key, AuditRecord.error_code, AuditRecord.error_message).where(
            AuditRecord.profile_id == profile_id,
            AuditRecord.kind == RecordKind.BILL,
            col(AuditRecord.status).in_([AuditStatus.FAILED, AuditStatus.PENDING]),
        )
        return {key: f"{code}: {message}" for key, code, message in session.exec(query)}
