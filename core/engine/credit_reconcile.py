"""Vendor credits in the reconciliation: the period's credits in Zoho vs the credit memos staged in
ServiceNow, and the settlements (credits applied to bills) zbsn staged, per currency.

The bills' comparison (`reconcile.py`) sets the credit memos apart (they carry the `ZB-<org>-VC-` prefix) and
hands them here. A credit missing from ServiceNow is explained when the audit log holds it failed or skipped
(e.g. waiting for its bill's invoice, or a draft).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.ports import RunContext, ZohoSource
from zbsn.core.engine.stages.vendor_credits import CreditSource
from zbsn.core.engine.transform_credits import credit_key
from zbsn.core.zoho.models import RecordError

TOLERANCE = Decimal("0.01")


@dataclass(slots=True)
class CreditTotals:
    """A count and totals per currency."""

    count: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)

    def add(self, currency: str, amount: Decimal) -> None:
        self.count += 1
        self.totals[currency] = self.totals.get(currency, Decimal(0)) + amount


@dataclass(frozen=True, slots=True)
class CreditDifference:
    kind: str  # missing_in_servicenow | missing_in_zoho | amount_mismatch
    external_key: str
    number: str | None
    zoho_amount: Decimal | None
    servicenow_amount: Decimal | None
    detail: str
    explained: bool = False


@dataclass(slots=True)
class CreditReconciliation:
    """Vendor credits vs credit memos for one period, and the settlements staged."""

    zoho: CreditTotals = field(default_factory=CreditTotals)
    servicenow: CreditTotals = field(default_factory=CreditTotals)
    explained: CreditTotals = field(default_factory=CreditTotals)
    settlements: CreditTotals = field(default_factory=CreditTotals)  # applications of credits to bills
    differences: list[CreditDifference] = field(default_factory=list)
    read: bool = True  # False: the Zoho client cannot read vendor credits (or was refused)

    @property
    def balanced(self) -> bool:
        """Every credit is a credit memo of the same amount, or the audit log says why not."""
        return self.read and all(d.explained for d in self.differences)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _credited(memo: dict[str, object]) -> Decimal | None:
    """The amount a credit memo credits, positive as Zoho's credit total (memos are staged negative)."""
    amount = _decimal(memo.get("invoice_amount"))
    return None if amount is None else abs(amount)


async def reconcile_credits(
    db: sa.Engine,
    context: RunContext,
    zoho: ZohoSource,
    memos: dict[str, dict[str, object]],
    currencies: dict[str, str],
    date_start: date | None,
    date_end: date | None,
) -> CreditReconciliation:
    """Compare the period's vendor credits with the credit memos ServiceNow holds (`memos`, by key)."""
    report = CreditReconciliation()
    in_zoho: dict[str, tuple[str, Decimal, str]] = {}
    if isinstance(zoho, CreditSource):
        async for item in zoho.iter_vendor_credits():
            if isinstance(item, RecordError) or item.status in ("draft", "void"):
                continue
            if (date_start and item.date and item.date < date_start) or (
                date_end and item.date and item.date > date_end
            ):
                continue
            key = credit_key(context.organization_id, item.vendor_credit_id)
            in_zoho[key] = (item.vendor_credit_number, item.total, item.currency_code)
    else:
        report.read = False
    why_not = _not_staged(db, context.profile_id)
    for key, (number, total, currency) in in_zoho.items():
        report.zoho.add(currency, total)
        memo = memos.get(key)
        if memo is None:
            reason = why_not.get(key)
            if reason is not None:
                report.explained.add(currency, total)
            detail = f"not in ServiceNow: {reason}" if reason else "not in ServiceNow"
            report.differences.append(
                CreditDifference(
                    "missing_in_servicenow", key, number, total, None, detail, reason is not None
                )
            )
            continue
        amount = _credited(memo)
        report.servicenow.add(currencies.get(str(memo.get("currency")), currency), amount or Decimal(0))
        if amount is None or abs(amount - total) > TOLERANCE:
            detail = f"Zoho {total} vs ServiceNow {amount}"
            report.differences.append(CreditDifference("amount_mismatch", key, number, total, amount, detail))
    for key, memo in memos.items():
        if key not in in_zoho:
            amount = _credited(memo)
            detail = "staged but no longer a vendor credit of this period in Zoho"
            number = str(memo.get("supplier_invoice_number"))
            report.differences.append(CreditDifference("missing_in_zoho", key, number, None, amount, detail))
    _settlements(db, context.profile_id, set(in_zoho), report)
    return report


def _not_staged(db: sa.Engine, profile_id: int) -> dict[str, str]:
    with session_scope(db) as session:
        query = select(AuditRecord.external_key, AuditRecord.error_message).where(
            AuditRecord.profile_id == profile_id,
            AuditRecord.kind == RecordKind.VENDOR_CREDIT,
            AuditRecord.status.in_((AuditStatus.FAILED, AuditStatus.SKIPPED)),  # type: ignore[attr-defined]
        )
        return {key: message or "failed" for key, message in session.exec(query)}


def _settlements(db: sa.Engine, profile_id: int, keys: set[str], report: CreditReconciliation) -> None:
    """Count the settlements the period's staged credits carried (from their mapped payloads)."""
    with session_scope(db) as session:
        query = select(AuditRecord.external_key, AuditRecord.currency, AuditRecord.mapped_payload).where(
            AuditRecord.profile_id == profile_id,
            AuditRecord.kind == RecordKind.VENDOR_CREDIT,
            AuditRecord.status == AuditStatus.STAGED,
        )
        rows = list(session.exec(query))
    for key, currency, payload in rows:
        if key not in keys:
            continue
        try:
            settled = json.loads(payload or "{}").get("settlements") or []
        except ValueError:
            continue
        for one in settled:
            amount = _decimal(one.get("amount")) if isinstance(one, dict) else None
            if amount is not None:
                report.settlements.add(currency or "", amount)
