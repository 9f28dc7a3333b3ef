"""A bill sent back to draft (or pending approval) in Zoho after its invoice was staged, over real sockets:
flagged with the invoice's ServiceNow state and what to do (never silently waiting), in the audit log and in
the preview; nothing is written to ServiceNow, a re-run neither repeats the flag nor writes, replay keeps the
flag and reconcile explains it; approved again, the bill follows the normal path (edited-after-approval rule
included)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncProfile
from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.company import Bill
from zbsn.sandbox.zoho import render

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile


def service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def bills(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all()
        return {r.zoho_id: r for r in rows}


def invoice(live: Sandboxes, bill_id: str) -> dict[str, Any]:
    return next(
        r for r in live.servicenow.table("sn_shop_invoice") if r["external_invoice_number"] == key(bill_id)
    )


def bill_details(live: Sandboxes) -> int:
    return int(Counter(live.zoho.counters()["api"]["by_endpoint"])["GET /bills/{bill_id}"])


def unpaid_bill() -> Bill:
    expected = Expected(company())
    paid = {a.bill_id for p in expected.company.payments for a in p.allocations}
    return next(
        b
        for b in expected.good_bills
        if b.status in ("open", "overdue")
        and b.bill_id not in paid
        and not b.adjustment
        and not b.discount
        and not any(line.tax_components for line in b.lines)
    )


def invoice_rows(live: Sandboxes, bill_id: str) -> list[dict[str, Any]]:
    """The invoice and its lines as ServiceNow holds them (compared whole: nothing may be written)."""
    header = invoice(live, bill_id)
    lines = [r for r in live.servicenow.table("sn_shop_invoice_line") if r["invoice"] == header["sys_id"]]
    return [header, *sorted(lines, key=lambda r: str(r["sys_id"]))]


async def test_a_bill_returned_to_draft_is_flagged_not_written_and_staged_again_once_approved(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    engine_service = service(engine, factories)
    chosen = unpaid_bill()
    await engine_service.run(profile_id)
    assert bills(engine)[chosen.bill_id].status == AuditStatus.STAGED
    held = invoice_rows(live, chosen.bill_id)

    live.zoho.advance(60)
    live.zoho.return_bill_to_draft(chosen.bill_id)
    details_before = bill_details(live)
    summary = await engine_service.run(profile_id)

    record = bills(engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO)
    message = record.error_message or ""
    assert message.startswith("returned to draft in Zoho Books after")
    state = ServiceNowStatus(record.sn_status or "").label.lower()
    assert f"({state} in ServiceNow)" in message
    assert "the AP team cancels the invoice there" in message
    assert record.sn_sys_id == held[0]["sys_id"]  # the flag keeps what ServiceNow holds
    assert summary.flagged >= 1
    assert bill_details(live) == details_before  # a waiting bill needs no detail request
    assert invoice_rows(live, chosen.bill_id) == held

    # again: unchanged in Zoho, so the flag is neither repeated nor written
    attempts = record.attempts
    await engine_service.run(profile_id)
    assert bills(engine)[chosen.bill_id].attempts == attempts
    assert invoice_rows(live, chosen.bill_id) == held

    # the preview of the bill's period shows the flag, not a silent wait
    report = await engine_service.preview(profile_id, date_start=chosen.date, date_end=chosen.date)
    item = next(i for i in report.items if i.bill_id == chosen.bill_id)
    assert item.outcome == "waiting"
    assert [p.code for p in item.problems] == [ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO]
    assert item.problems[0].message == message
    others = [i for i in report.items if i.outcome == "waiting" and i.bill_id != chosen.bill_id]
    assert all(p.code == ErrorCode.AWAITING_APPROVAL for i in others for p in i.problems)

    # replay keeps the flag and writes nothing
    replayed = await engine_service.replay(profile_id, [record.id or 0])
    assert (replayed.flagged, replayed.staged) == (1, 0)
    again = bills(engine)[chosen.bill_id]
    assert (again.status, again.error_code) == (AuditStatus.FLAGGED, ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO)
    assert invoice_rows(live, chosen.bill_id) == held

    # reconcile: a draft in Zoho that ServiceNow holds as an invoice, explained by the flag
    found = await engine_service.reconcile(profile_id, date(2000, 1, 1), date(2100, 1, 1))
    differences = [d for d in found.state_differences if d.external_key == key(chosen.bill_id)]
    assert [d.kind for d in differences] == ["status_mismatch"]
    assert differences[0].detail.startswith("draft in Zoho")
    assert differences[0].explained

    # edited while in draft, then approved: the normal path stages the change to the invoice
    live.zoho.advance(60)
    live.zoho.edit_bill(chosen.bill_id, {"due_date": "2027-02-28"})
    live.zoho.advance(60)
    live.zoho.approve_bill(chosen.bill_id)
    await engine_service.run(profile_id)
    record = bills(engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.STAGED, None)
    assert invoice(live, chosen.bill_id)["due_date"] == "2027-02-28"
    assert invoice(live, chosen.bill_id)["sys_id"] == held[0]["sys_id"]


async def test_a_bill_approved_in_servicenow_then_returned_to_draft_and_edited_is_never_overwritten(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    with session_scope(sqlite_engine) as session:  # the invoice stays Approved (no posting as the ERP)
        profile = session.get(SyncProfile, profile_id)
        assert profile is not None
        profile.post_outbound_as_erp = False
        session.add(profile)
    engine_service = service(sqlite_engine, factories)
    chosen = unpaid_bill()
    await engine_service.run(profile_id)
    live.servicenow.run_job("invoice_processing")
    live.servicenow.approve_invoice(invoice(live, chosen.bill_id)["sys_id"])
    await engine_service.refresh_statuses(profile_id)
    held = invoice(live, chosen.bill_id)

    live.zoho.advance(60)
    live.zoho.return_bill_to_draft(chosen.bill_id, "pending_approval")
    # previewed before the run that flags it: what changed shows the flag already, nothing is written
    report = await engine_service.preview(profile_id)
    item = next(i for i in report.items if i.bill_id == chosen.bill_id)
    assert (item.outcome, [p.code for p in item.problems]) == (
        "waiting",
        [ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO],
    )
    assert "(approved in ServiceNow)" in item.problems[0].message
    assert bills(sqlite_engine)[chosen.bill_id].status == AuditStatus.STAGED
    await engine_service.run(profile_id)
    record = bills(sqlite_engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO)
    assert (record.error_message or "").startswith("returned to pending approval in Zoho Books")
    assert "(approved in ServiceNow)" in (record.error_message or "")
    assert "holds or cancels the invoice there" in (record.error_message or "")

    live.zoho.advance(60)
    live.zoho.edit_bill(chosen.bill_id, {"due_date": "2027-01-31"})
    live.zoho.advance(60)
    live.zoho.approve_bill(chosen.bill_id)
    await engine_service.run(profile_id)
    record = bills(sqlite_engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.EDITED_AFTER_APPROVAL)
    assert "2027-01-31" in (record.error_message or "")
    assert invoice(live, chosen.bill_id)["due_date"] == held["due_date"]
    assert invoice(live, chosen.bill_id)["state"] == "approved"


async def test_a_webhook_flags_the_return_to_draft_and_a_sweep_flags_its_deletion(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    engine_service = service(engine, factories)
    chosen = unpaid_bill()
    await engine_service.run(profile_id)
    held = invoice_rows(live, chosen.bill_id)

    live.zoho.advance(60)
    draft = live.zoho.return_bill_to_draft(chosen.bill_id)
    with live.zoho.state.lock:
        payload = {"bill": render.bill_detail(live.zoho.state, draft)}
    hook = await engine_service.process_webhook_bill(profile_id, payload, "bill.edited")
    assert (hook.flagged, hook.staged) == (1, 0)
    record = bills(engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.RETURNED_TO_DRAFT_IN_ZOHO)
    again = await engine_service.process_webhook_bill(profile_id, payload, "bill.edited")
    assert (again.flagged, again.unchanged) == (0, 1)
    assert invoice_rows(live, chosen.bill_id) == held

    # a draft is deleted in Zoho: the full sweep still knows its invoice is in ServiceNow
    live.zoho.advance(60)
    live.zoho.delete_bill(chosen.bill_id)
    await engine_service.run(profile_id, mode="full")
    record = bills(engine)[chosen.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.DELETED_IN_ZOHO)
    assert invoice_rows(live, chosen.bill_id) == held
