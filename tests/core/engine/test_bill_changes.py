"""Bills changed in Zoho after staging, over real sockets: one edited after its invoice was approved in
ServiceNow is flagged, not overwritten (its payments still stage); a change that moves no staged value is
staged as before; lines removed in Zoho are flagged (an import set cannot delete an invoice line)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncProfile
from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.company import Bill

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile


def service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def records(db: sa.Engine, kind: str = RecordKind.BILL) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        return {r.zoho_id: r for r in session.exec(select(AuditRecord).where(AuditRecord.kind == kind)).all()}


def invoice(live: Sandboxes, bill_id: str) -> dict[str, Any]:
    return next(
        r for r in live.servicenow.table("sn_shop_invoice") if r["external_invoice_number"] == key(bill_id)
    )


def unpaid(expected: Expected) -> list[Bill]:
    paid = {a.bill_id for p in expected.company.payments for a in p.allocations}
    return [
        b
        for b in expected.good_bills
        if b.status in ("open", "overdue") and b.bill_id not in paid and not b.adjustment and not b.discount
    ]


def items(bill: Bill, keep: int | None = None) -> list[dict[str, Any]]:
    lines = bill.lines if keep is None else bill.lines[:keep]
    return [
        {
            "line_item_id": line.line_item_id,
            "account_id": line.account_id,
            "description": line.description,
            "quantity": str(line.quantity),
            "rate": str(line.rate),
            "cost_center_option_id": line.cost_center_option_id,
            "tax_id": line.tax_id,
            "tax_name": line.tax_name,
            "tax_percentage": str(line.tax_percentage),
        }
        for line in lines
    ]


async def test_a_bill_edited_after_approval_is_flagged_not_overwritten_and_its_payment_still_stages(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    with session_scope(sqlite_engine) as session:  # the invoice stays Approved (no posting as the ERP)
        profile = session.get(SyncProfile, profile_id)
        assert profile is not None
        profile.post_outbound_as_erp = False
        session.add(profile)
    engine_service = service(sqlite_engine, factories)
    chosen = next(b for b in unpaid(Expected(company())) if not any(line.tax_components for line in b.lines))
    await engine_service.run(profile_id)
    live.servicenow.run_job("invoice_processing")
    live.servicenow.approve_invoice(invoice(live, chosen.bill_id)["sys_id"])
    await engine_service.refresh_statuses(profile_id)
    assert records(sqlite_engine)[chosen.bill_id].sn_status == ServiceNowStatus.APPROVED
    due_before = invoice(live, chosen.bill_id)["due_date"]

    # a change of nothing staged (Zoho's reference number): staged as before, no flag
    live.zoho.advance(60)
    live.zoho.edit_bill(chosen.bill_id, {"reference_number": "PO-CHANGED"})
    await engine_service.run(profile_id)
    record = records(sqlite_engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.STAGED, None)

    # the due date moves in Zoho: flagged, the approved invoice keeps its due date
    live.zoho.advance(60)
    live.zoho.edit_bill(chosen.bill_id, {"due_date": "2027-01-31"})
    summary = await engine_service.run(profile_id)
    record = records(sqlite_engine)[chosen.bill_id]
    assert record.status == AuditStatus.FLAGGED
    assert record.error_code == ErrorCode.EDITED_AFTER_APPROVAL
    assert record.error_message is not None
    assert "due date" in record.error_message
    assert "2027-01-31" in record.error_message
    assert "approved in ServiceNow" in record.error_message
    assert summary.flagged >= 1
    assert invoice(live, chosen.bill_id)["due_date"] == due_before
    assert invoice(live, chosen.bill_id)["state"] == "approved"

    # Zoho pays the bill: the payment names the invoice ServiceNow holds, so it stages
    live.zoho.advance(60)
    total = sum((Decimal(str(v)) for v in [invoice(live, chosen.bill_id)["invoice_amount"]]), Decimal(0))
    payment = live.zoho.add_payment({"bills": [{"bill_id": chosen.bill_id, "amount_applied": str(total)}]})
    await engine_service.run(profile_id)
    assert records(sqlite_engine, RecordKind.PAYMENT)[payment.payment_id].status == AuditStatus.STAGED
    assert records(sqlite_engine)[chosen.bill_id].status == AuditStatus.FLAGGED  # still edited


async def test_lines_removed_in_zoho_are_flagged_and_the_invoice_keeps_them(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    engine_service = service(sqlite_engine, factories)
    chosen = next(
        b
        for b in unpaid(Expected(company()))
        if len(b.lines) >= 2 and not any(line.tax_components for line in b.lines)
    )
    await engine_service.run(profile_id)
    lines_before = [
        r
        for r in live.servicenow.table("sn_shop_invoice_line")
        if r["invoice"] == invoice(live, chosen.bill_id)["sys_id"]
    ]
    assert len(lines_before) == len(chosen.lines)

    live.zoho.advance(60)
    live.zoho.edit_bill(chosen.bill_id, {"line_items": items(chosen, keep=1)})
    await engine_service.run(profile_id)

    record = records(sqlite_engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.LINES_REMOVED_IN_ZOHO)
    removed = [line.line_item_id for line in chosen.lines[1:]]
    assert record.error_message is not None
    assert all(line_id in record.error_message for line_id in removed)
    assert "cannot delete an invoice line" in record.error_message
    lines_after = [
        r
        for r in live.servicenow.table("sn_shop_invoice_line")
        if r["invoice"] == invoice(live, chosen.bill_id)["sys_id"]
    ]
    assert len(lines_after) == len(chosen.lines)  # nothing written: ServiceNow keeps every line

    # the same bill listed again unchanged is not flagged twice; its next change stages it again
    await engine_service.run(profile_id)
    assert records(sqlite_engine)[chosen.bill_id].attempts == record.attempts
    live.zoho.advance(60)
    live.zoho.edit_bill(chosen.bill_id, {"due_date": "2027-02-28"})
    await engine_service.run(profile_id)
    assert records(sqlite_engine)[chosen.bill_id].status == AuditStatus.STAGED
    assert invoice(live, chosen.bill_id)["due_date"] == "2027-02-28"
