"""Vendor-payment webhooks over real sockets: a payment Zoho pushes is staged as payment details without a
Zoho request when it carries its bills; a deleted one is flagged when its details are in ServiceNow."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.zoho import render

from .conftest import Sandboxes, company
from .expectations import Expected
from .harness import ClientFactories, create_profile


def payments(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.PAYMENT)).all()
        return {r.zoho_id: r for r in rows}


def zoho_requests(live: Sandboxes) -> int:
    return int(live.zoho.counters()["api"]["requests"])


async def test_a_payment_webhook_stages_its_details_and_a_delete_is_flagged(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    engine_service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    await engine_service.run(profile_id)
    expected = Expected(company())
    paid = {a.bill_id for p in expected.company.payments for a in p.allocations}
    bill = next(b for b in expected.good_bills if b.status in ("open", "overdue") and b.bill_id not in paid)
    with live.zoho.state.lock:
        total = live.zoho.state.totals[bill.bill_id]
    live.zoho.advance(60)
    payment = live.zoho.add_payment({"bills": [{"bill_id": bill.bill_id, "amount_applied": str(total)}]})
    with live.zoho.state.lock:
        payload = {"vendorpayment": render.payment_detail(live.zoho.state, payment)}
    details_before = len(live.servicenow.table("sn_shop_invoice_payment_detail"))
    requests_before = zoho_requests(live)

    summary = await engine_service.process_webhook_payment(profile_id, payload, "vendorpayment.created")

    assert summary.staged == 1
    assert payments(sqlite_engine)[payment.payment_id].status == AuditStatus.STAGED
    assert zoho_requests(live) == requests_before  # the payload held its bills: no Zoho request
    details = live.servicenow.table("sn_shop_invoice_payment_detail")
    assert len(details) == details_before + 1
    invoice = next(r for r in live.servicenow.table("sn_shop_invoice") if r["erp_number"] == bill.bill_id)
    assert invoice["state"] == "paid"
    # delivered again: the same version writes nothing
    again = await engine_service.process_webhook_payment(profile_id, payload, "vendorpayment.created")
    assert (again.staged, again.unchanged) == (0, 1)

    # deleted in Zoho (the delete rule sends the id): flagged, ServiceNow keeps the details
    deleted = await engine_service.process_webhook_payment(
        profile_id, {"vendorpayment": {"payment_id": payment.payment_id}}, "vendorpayment.deleted"
    )
    record = payments(sqlite_engine)[payment.payment_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.PAYMENT_DELETED_IN_ZOHO)
    assert record.error_message is not None
    assert "cannot delete them" in record.error_message
    assert deleted.flagged == 1
    assert len(live.servicenow.table("sn_shop_invoice_payment_detail")) == details_before + 1

    # a payment never staged and then deleted is skipped, not flagged
    unknown = await engine_service.process_webhook_payment(
        profile_id, {"vendorpayment": {"payment_id": "460237009999999"}}, "vendorpayment.deleted"
    )
    assert (unknown.skipped, unknown.flagged) == (1, 0)
