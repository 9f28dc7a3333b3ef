"""Vendor credits end to end over real sockets: read from the Zoho sandbox's /vendorcredits, staged as
credit memos in the ServiceNow sandbox with a settlement (payment detail) on each bill's invoice they were
applied to, once; replayed once the bill they wait for is staged."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind, RunStatus
from zbsn.core.engine.history import ReplayFilter
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.core.engine.transform_credits import CREDIT_MEMO_TYPE, credit_key, settlement_reference
from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from zbsn.sandbox.zoho.oauth import READ_SCOPES

from .conftest import Sandboxes, company
from .expectations import key
from .harness import ORG_ID, ClientFactories, authorize_zoho_async, create_profile


def credit_rows(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.VENDOR_CREDIT)).all()
    return {r.zoho_id: r for r in rows}


async def test_credits_become_credit_memos_and_settle_their_bills(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow)
    await service.run(profile_id)

    seeded = company().vendor_credits
    assert len(seeded) >= 3
    assert any(c.applications for c in seeded)
    assert any(not c.applications for c in seeded)
    invoices = {r["external_invoice_number"]: r for r in live.servicenow.table("sn_shop_invoice")}
    payments = {r["payment_reference_id"]: r for r in live.servicenow.table("sn_shop_invoice_payment_detail")}
    rows = credit_rows(engine)
    for credit in seeded:
        memo = invoices[credit_key(ORG_ID, credit.vendor_credit_id)]
        total = sum(
            ((line.rate * line.quantity).quantize(Decimal("0.01")) * (1 + line.tax_percentage / 100))
            for line in credit.lines
        ).quantize(Decimal("0.01"))
        assert memo["type"] == CREDIT_MEMO_TYPE
        assert memo["supplier_invoice_number"] == credit.vendor_credit_number
        assert Decimal(memo["invoice_amount"]) == -total  # a credit memo carries negative amounts
        assert rows[credit.vendor_credit_id].status == AuditStatus.STAGED
        settled = json.loads(rows[credit.vendor_credit_id].mapped_payload or "{}")["settlements"]
        assert [(s["bill_id"], Decimal(s["amount"])) for s in settled] == [
            (a.bill_id, a.amount) for a in credit.applications
        ]
        for application in credit.applications:
            assert memo["original_invoice"] == application.bill_id  # the bill's ERP number
            detail = payments[settlement_reference(ORG_ID, credit.vendor_credit_id, application.bill_id)]
            assert detail["invoice"] == invoices[key(application.bill_id)]["sys_id"]
            assert Decimal(detail["payment_amount"]) == application.amount

    # a second full run stages no credit memo or settlement twice
    await service.run(profile_id, mode="full")
    again = [r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice")]
    assert len(again) == len(set(again))
    references = [r["payment_reference_id"] for r in live.servicenow.table("sn_shop_invoice_payment_detail")]
    assert len(references) == len(set(references))


async def test_a_credit_for_an_unstaged_bill_waits_then_replays(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    applied = next(c for c in company().vendor_credits if c.applications)
    bill_id = applied.applications[0].bill_id
    line = live.zoho.state.bills[bill_id].lines[0]
    account = line.account_id
    line.account_id = "460237000009999001"  # a deleted account: the bill fails
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow)
    await service.run(profile_id)

    waiting = credit_rows(engine)[applied.vendor_credit_id]
    assert waiting.status == AuditStatus.FAILED
    assert waiting.error_code == ErrorCode.INVOICE_NOT_STAGED
    memo_key = credit_key(ORG_ID, applied.vendor_credit_id)
    assert memo_key not in {r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice")}

    line.account_id = account  # fixed in Zoho: the next run stages the bill, the credit waits for a replay
    live.zoho.state.edit_bill(bill_id, {"reference_number": "fixed"})
    await service.run(profile_id)
    assert credit_rows(engine)[applied.vendor_credit_id].status == AuditStatus.FAILED
    summary = await service.replay(profile_id, where=ReplayFilter(kind=RecordKind.VENDOR_CREDIT))
    assert summary.staged == 1
    assert credit_rows(engine)[applied.vendor_credit_id].status == AuditStatus.STAGED
    assert memo_key in {r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice")}


async def test_reconcile_counts_credit_memos_and_their_settlements(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow)
    await service.run(profile_id)
    report = await service.reconcile(profile_id)

    seeded = company().vendor_credits
    memos = report.credits
    assert memos.read
    assert memos.balanced, memos.differences
    assert memos.zoho.count == memos.servicenow.count == len(seeded)
    assert memos.zoho.totals == memos.servicenow.totals
    applications = [a for c in seeded for a in c.applications]
    assert memos.settlements.count == len(applications)
    assert sum(memos.settlements.totals.values()) == sum(a.amount for a in applications)
    # credit memos are not invoices of bills: the bills' comparison does not see them
    assert not any("-VC-" in d.external_key for d in report.differences)


async def test_preview_shows_each_credit_as_the_credit_memo_it_would_become(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow)
    seeded = {c.vendor_credit_id: c for c in company().vendor_credits}

    before = await service.preview(profile_id)  # nothing staged yet: credits applied to bills must wait
    shown = {c.vendor_credit_id: c for c in before.credits}
    assert set(shown) == set(seeded)
    for credit_id, credit in seeded.items():
        assert shown[credit_id].settlements == [(a.bill_id, a.amount) for a in credit.applications]
        if credit.applications:
            assert shown[credit_id].outcome == "blocked"
            assert {p.code for p in shown[credit_id].problems} == {ErrorCode.INVOICE_NOT_STAGED}
        else:
            assert shown[credit_id].outcome == "ready"

    await service.run(profile_id)
    after = await service.preview(profile_id)
    assert after.credits == []  # nothing changed since the run
    period = await service.preview(profile_id, date_start=company().bills[0].date)
    assert {c.vendor_credit_id: c.outcome for c in period.credits} == dict.fromkeys(seeded, "ready")


async def test_a_grant_without_the_credit_scope_stops_after_bills_and_payments_naming_it(
    engine: sa.Engine, live: Sandboxes
) -> None:
    old_scopes = ",".join(s for s in READ_SCOPES.split(",") if s != "ZohoBooks.debitnotes.READ")
    code = live.zoho.self_client_code(old_scopes)
    tokens = await authorize_zoho_async(
        live.endpoints.zoho_accounts_url, code, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    factories = ClientFactories(replace(live.endpoints, zoho_tokens=tokens))
    profile_id = create_profile(engine, live.endpoints)
    summary = await EngineService(engine, factories.zoho, factories.servicenow).run(profile_id)

    assert summary.status == RunStatus.REAUTH
    assert "ZohoBooks.debitnotes.READ" in (summary.message or "")
    assert summary.staged > 100  # the bills and the payments went first
    assert len(live.servicenow.table("sn_shop_invoice_payment_detail")) > 50
    assert credit_rows(engine) == {}
    assert [r for r in live.servicenow.table("sn_shop_invoice") if r["type"] == CREDIT_MEMO_TYPE] == []
