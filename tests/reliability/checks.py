"""What "nothing lost, nothing duplicated" means, checked against both sandboxes and the audit log."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from tests.core.engine.expectations import key
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind

from .conftest import World


def staged_invoice_numbers(world: World) -> Counter[str]:
    return Counter(r["external_invoice_number"] for r in world.servicenow.table("sn_shop_invoice"))


def assert_exactly_once(world: World, db: sa.Engine) -> dict[str, object]:
    """Every good bill staged once (invoice, lines, payments), none missing, equal totals, audit agrees."""
    expected = world.expected
    good = expected.good_bills
    invoices = world.servicenow.table("sn_shop_invoice")
    numbers = Counter(r["external_invoice_number"] for r in invoices)
    duplicates = sorted(n for n, c in numbers.items() if c > 1)
    assert duplicates == [], f"duplicate invoices: {duplicates[:10]}"
    wanted_bills = {key(b.bill_id) for b in good}
    wanted = wanted_bills | expected.credit_memo_numbers  # the bills' invoices and the credit memos
    missing = sorted(wanted - set(numbers))
    assert missing == [], f"{len(missing)} good bills missing from ServiceNow: {missing[:10]}"
    assert set(numbers) == wanted, f"unexpected invoices: {sorted(set(numbers) - wanted)[:10]}"

    lines = Counter(
        (r["invoice"], r["erp_line_number"]) for r in world.servicenow.table("sn_shop_invoice_line")
    )
    assert [k for k, c in lines.items() if c > 1] == []
    assert sum(lines.values()) == sum(len(b.lines) for b in good) + expected.credit_memo_lines
    payments = Counter(
        (r["payment_reference_id"], r["invoice"])
        for r in world.servicenow.table("sn_shop_invoice_payment_detail")
    )
    assert [k for k, c in payments.items() if c > 1] == []

    zoho_total = world.zoho_total_of_good_bills()
    bill_invoices = [r for r in invoices if r["external_invoice_number"] in wanted_bills]
    sn_total = sum((Decimal(str(r["invoice_amount"])) for r in bill_invoices), Decimal(0))
    assert sn_total == zoho_total, f"ServiceNow {sn_total} != Zoho {zoho_total}"

    with session_scope(db) as session:
        bills = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all()
        credits_staged = {
            r.external_key
            for r in session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.VENDOR_CREDIT))
            if r.status == AuditStatus.STAGED
        }
        pending = session.exec(select(AuditRecord).where(AuditRecord.status == AuditStatus.PENDING)).all()
    assert pending == [], f"{len(pending)} audit rows left pending"
    staged = {r.external_key for r in bills if r.status == AuditStatus.STAGED}
    assert staged == wanted_bills  # audit says staged exactly for what ServiceNow holds
    assert credits_staged == expected.credit_memo_numbers
    by_sys_id = {r["sys_id"] for r in invoices}
    assert all(r.sn_sys_id in by_sys_id for r in bills if r.status == AuditStatus.STAGED)
    for record in bills:
        if record.status == AuditStatus.FAILED:
            assert record.error_message, f"bill {record.zoho_id} failed without a reason"
    return {
        "invoices": len(invoices),
        "lines": sum(lines.values()),
        "payments": sum(payments.values()),
        "total": str(sn_total),
    }
