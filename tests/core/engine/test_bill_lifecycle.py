"""The Zoho bill lifecycle over real sockets: only approved bills are staged; a draft or a bill pending
approval is skipped as waiting for approval in Zoho (never failed), shown so in the preview, and staged by
the next run once approved; the profile chooses the statuses it stages."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncProfile
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.bill_lifecycle import format_bill_statuses
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.zoho import render

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile


def service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def bill_audits(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all()
        return {r.zoho_id: r for r in rows}


def staged_invoices(live: Sandboxes) -> set[str]:
    return {r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice")}


def detail_requests(live: Sandboxes) -> int:
    return int(Counter(live.zoho.counters()["api"]["by_endpoint"])["GET /bills/{bill_id}"])


async def test_bills_waiting_for_approval_are_skipped_with_the_reason_then_staged_once_approved(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    expected = Expected(company())
    waiting = expected.waiting_bills
    assert {b.status for b in waiting} == {"draft", "pending_approval"}
    engine_service = service(sqlite_engine, factories)

    summary = await engine_service.run(profile_id)

    audits = bill_audits(sqlite_engine)
    for bill in waiting:
        record = audits[bill.bill_id]
        assert record.status == AuditStatus.SKIPPED  # not failed: nothing is wrong with it
        assert record.error_code == ErrorCode.AWAITING_APPROVAL
        assert record.error_message is not None
        assert record.error_message.startswith("waiting for approval in Zoho")
        assert record.sn_sys_id is None
        assert key(bill.bill_id) not in staged_invoices(live)
    assert summary.skipped >= len(waiting)
    # no detail request for a bill that waits: the list row says all
    not_fetched = len([b for b in expected.company.bills if b.status == "void"]) + len(waiting)
    assert detail_requests(live) == len(expected.company.bills) - not_fetched

    # a second run reads nothing new for them (unchanged), then approval in Zoho stages them
    await engine_service.run(profile_id)
    assert all(bill_audits(sqlite_engine)[b.bill_id].status == AuditStatus.SKIPPED for b in waiting)
    draft = next(b for b in waiting if b.status == "draft")
    pending = next(b for b in waiting if b.status == "pending_approval")
    live.zoho.advance(60)
    live.zoho.submit_bill(draft.bill_id)  # draft -> pending approval: still waiting
    live.zoho.approve_bill(pending.bill_id)
    await engine_service.run(profile_id)

    audits = bill_audits(sqlite_engine)
    assert audits[pending.bill_id].status == AuditStatus.STAGED
    assert audits[pending.bill_id].error_code is None
    assert key(pending.bill_id) in staged_invoices(live)
    assert audits[draft.bill_id].status == AuditStatus.SKIPPED
    assert "pending approval" in (audits[draft.bill_id].error_message or "")
    assert key(draft.bill_id) not in staged_invoices(live)


async def test_the_preview_shows_waiting_bills_with_the_reason_not_as_blocked(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    expected = Expected(company())
    report = await service(sqlite_engine, factories).preview(profile_id)

    waiting = {item.bill_id: item for item in report.items if item.outcome == "waiting"}
    assert set(waiting) == {b.bill_id for b in expected.waiting_bills}
    assert report.counts["waiting"] == len(expected.waiting_bills)
    for item in waiting.values():
        assert [p.code for p in item.problems] == [ErrorCode.AWAITING_APPROVAL]
        assert item.problems[0].message.startswith("waiting for approval in Zoho")
        assert item.listed is not None
        assert item.listed.vendor_name
    assert not any(code == ErrorCode.AWAITING_APPROVAL for code, _subject in report.blocked_by)
    rows = [row for row in report.csv_rows() if row["outcome"] == "waiting"]
    assert len(rows) == len(waiting)
    assert all(row["missing"].startswith("waiting for approval in Zoho") and row["vendor"] for row in rows)


async def test_a_profile_that_stages_drafts_stages_them_and_one_without_paid_bills_waits_on_them(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    with session_scope(sqlite_engine) as session:
        profile = session.get(SyncProfile, profile_id)
        assert profile is not None
        profile.stage_bill_statuses = format_bill_statuses(["draft", "open", "overdue", "partially_paid"])
        session.add(profile)
    expected = Expected(company())
    await service(sqlite_engine, factories).run(profile_id)

    audits = bill_audits(sqlite_engine)
    drafts = [b for b in expected.waiting_bills if b.status == "draft"]
    assert drafts
    assert {audits[b.bill_id].status for b in drafts} == {AuditStatus.STAGED}
    pending = [b for b in expected.waiting_bills if b.status == "pending_approval"]
    assert {audits[b.bill_id].error_code for b in pending} == {ErrorCode.AWAITING_APPROVAL}
    paid = [b for b in expected.company.bills if b.status == "paid"]
    assert paid
    assert {audits[b.bill_id].status for b in paid} == {AuditStatus.SKIPPED}
    reasons = {(audits[b.bill_id].error_code, audits[b.bill_id].error_message) for b in paid}
    assert reasons == {
        (ErrorCode.STATUS_NOT_STAGED, "not staged: this profile leaves out bills in status 'paid'")
    }


async def test_a_webhook_for_a_draft_is_skipped_as_waiting_and_its_approval_stages_it(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)
    vendor = next(v for v in company().vendors if v.exists_in_servicenow and v.currency_code == "GBP")
    account = next(a for a in company().accounts if a.account_type == "expense")
    option = next(c for c in company().cost_centers if c.exists_in_servicenow)
    draft = live.zoho.add_bill(
        {
            "vendor_id": vendor.contact_id,
            "status": "draft",
            "line_items": [
                {
                    "account_id": account.account_id,
                    "description": "Draft work",
                    "quantity": 1,
                    "rate": 100,
                    "cost_center_option_id": option.tag_option_id,
                }
            ],
        }
    )
    with live.zoho.state.lock:
        payload = {"bill": render.bill_detail(live.zoho.state, draft)}
    await engine_service.process_webhook_bill(profile_id, payload, "bill.created")
    record = bill_audits(sqlite_engine)[draft.bill_id]
    assert (record.status, record.error_code) == (AuditStatus.SKIPPED, ErrorCode.AWAITING_APPROVAL)
    assert key(draft.bill_id) not in staged_invoices(live)

    live.zoho.advance(60)  # approved a minute later: a new last_modified_time
    approved = live.zoho.approve_bill(draft.bill_id)
    with live.zoho.state.lock:
        payload = {"bill": render.bill_detail(live.zoho.state, approved)}
    await engine_service.process_webhook_bill(profile_id, payload, "bill.edited")
    assert bill_audits(sqlite_engine)[draft.bill_id].status == AuditStatus.STAGED
    assert key(draft.bill_id) in staged_invoices(live)
