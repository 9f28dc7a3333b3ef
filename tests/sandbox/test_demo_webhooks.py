"""Webhooks end to end: the Zoho sandbox signs and posts, the receiver stores, the engine stages with no Zoho
request, and a voided bill is flagged with its invoice's ServiceNow state (zbsn cancels no invoice: the AP
team does, and the next status refresh reads it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from zbsn.core.db.models import AuditRecord, WebhookEvent
from zbsn.core.domain import AuditStatus, InboxStatus, RecordKind
from zbsn.sandbox.demo import DemoHandle, start_demo


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoHandle]:
    handle = start_demo(f"sqlite:///{tmp_path / 'hooks.db'}", seed=7, bills=40, rate_window_s=2.0)
    yield handle
    handle.stop()


def _wait_settled(handle: DemoHandle, count: int, timeout_s: float = 20.0) -> list[WebhookEvent]:
    deadline = time.monotonic() + timeout_s
    while True:
        with Session(handle.db_engine) as session:
            events = list(session.exec(select(WebhookEvent).order_by(WebhookEvent.id)).all())
        if len(events) >= count and all(e.status != InboxStatus.NEW for e in events):
            return events
        if time.monotonic() > deadline:
            raise AssertionError(f"webhook events not settled: {[(e.id, e.status) for e in events]}")
        time.sleep(0.05)


def _bill_audit(handle: DemoHandle, bill_id: str) -> AuditRecord:
    with Session(handle.db_engine) as session:
        record = session.exec(
            select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL, AuditRecord.zoho_id == bill_id)
        ).one()
        return record


def _zoho_requests(handle: DemoHandle) -> int:
    return int(handle.zoho.counters()["api"]["requests"])


async def test_webhook_bill_is_staged_without_zoho_requests_and_void_is_flagged(demo: DemoHandle) -> None:
    first = await demo.workspace.engine_service().run(demo.profile_id, mode="full")
    assert first.staged > 0
    paid = {alloc.bill_id for payment in demo.company.payments for alloc in payment.allocations}
    unpaid = [b.bill_id for b in demo.company.bills if b.status == "open" and b.bill_id not in paid]
    with Session(demo.db_engine) as session:
        staged = session.exec(
            select(AuditRecord).where(
                AuditRecord.kind == RecordKind.BILL,
                AuditRecord.status == AuditStatus.STAGED,
                AuditRecord.zoho_id.in_(unpaid),  # type: ignore[attr-defined]
            )
        ).first()
    assert staged is not None
    invoices_before = len(demo.servicenow.table("sn_shop_invoice"))
    attempts_before = staged.attempts
    requests_before = _zoho_requests(demo)

    delivery = demo.fire_webhook(staged.zoho_id, "bill.edited")
    assert delivery["outcome"] == "delivered", delivery
    events = _wait_settled(demo, 1)
    assert [e.status for e in events] == [InboxStatus.PROCESSED], [(e.status, e.error) for e in events]
    assert events[0].event_type == "bill.edited"
    edited = _bill_audit(demo, staged.zoho_id)
    assert edited.attempts > attempts_before
    assert edited.status == AuditStatus.STAGED
    assert _zoho_requests(demo) == requests_before  # the payload was complete: no Zoho request
    assert len(demo.servicenow.table("sn_shop_invoice")) == invoices_before  # coalesced, no duplicate

    invoice = _invoice(demo, edited.sn_sys_id)
    demo.fire_webhook(staged.zoho_id, "bill.voided")
    _wait_settled(demo, 2)
    voided = _bill_audit(demo, staged.zoho_id)
    assert (voided.status, voided.error_code) == (AuditStatus.FLAGGED, "VOIDED_IN_ZOHO")
    assert f"invoice {invoice['number']} stays in ServiceNow" in (voided.error_message or "")
    after = _invoice(demo, edited.sn_sys_id)  # cancelling it is the AP team's action: zbsn wrote nothing
    assert (after["state"], after["sys_mod_count"]) == (invoice["state"], invoice["sys_mod_count"])
    assert after["state"] != "canceled"
    assert _zoho_requests(demo) == requests_before

    # the AP team cancels it in ServiceNow; the next status refresh reads that and the flag is done
    demo.servicenow.db.update("sn_shop_invoice", after["sys_id"], {"state": "canceled"})
    await demo.workspace.engine_service().refresh_statuses(demo.profile_id)
    assert _bill_audit(demo, staged.zoho_id).status == AuditStatus.CANCELLED


def _invoice(demo: DemoHandle, sys_id: str | None) -> dict[str, Any]:
    """The ServiceNow invoice a staged bill's header became."""
    (found,) = [dict(row) for row in demo.servicenow.table("sn_shop_invoice") if row["sys_id"] == sys_id]
    return found


def test_unsigned_delivery_is_refused_and_not_stored(demo: DemoHandle) -> None:
    import httpx

    assert demo.webhook_url is not None
    response = httpx.post(demo.webhook_url, content=b'{"bill": {"bill_id": "1"}}')
    assert response.status_code == 401
    with Session(demo.db_engine) as session:
        assert session.exec(select(WebhookEvent)).all() == []
