"""End to end over real sockets: the real clients against both sandboxes, the engine in between."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditAttempt, AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus, RunStatus
from zbsn.core.engine.events import Event, RecordFailed, RunFinished, RunStarted, StageFinished
from zbsn.core.engine.lock import RunLocked
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.zoho import render

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, authorize_zoho_async, create_profile

DETAIL_ENDPOINTS = ("GET /bills/{bill_id}", "GET /vendorpayments/{payment_id}")


def service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def zoho_calls(live: Sandboxes) -> Counter[str]:
    return Counter(live.zoho.counters()["api"]["by_endpoint"])


def invoices(live: Sandboxes) -> dict[str, dict[str, Any]]:
    """The bills' sn_shop_invoice rows by external invoice number (credit memos are test_vendor_credits'
    business); fails on a duplicate."""
    rows = [r for r in live.servicenow.table("sn_shop_invoice") if r["type"] != "credit_memo"]
    numbers = Counter(r["external_invoice_number"] for r in rows)
    assert [n for n, c in numbers.items() if c > 1] == []
    return {r["external_invoice_number"]: r for r in rows}


def audits(db: sa.Engine) -> list[AuditRecord]:
    with session_scope(db) as session:
        return list(session.exec(select(AuditRecord)).all())


async def test_first_run_stages_every_good_bill_correctly(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    expected = Expected(company())
    events: list[Event] = []
    summary = await service(engine, factories).run(profile_id, events=events.append)

    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES
    staged = invoices(live)
    assert set(staged) == {key(b.bill_id) for b in expected.good_bills}
    vendors = {v.contact_id: v for v in expected.company.vendors}
    suppliers = {r["sys_id"]: r["erp_supplier_code"] for r in live.servicenow.table("sn_fin_supplier")}
    for bill in expected.good_bills:
        invoice = staged[key(bill.bill_id)]
        assert invoice["supplier_invoice_number"] == bill.bill_number
        assert suppliers[invoice["supplier"]] == vendors[bill.vendor_id].supplier_code
        assert invoice["invoice_date"] == bill.date.isoformat()
    # every line carries the right cost center account number and GL number
    cost_centers = {r["sys_id"]: r["account_number"] for r in live.servicenow.table("cmn_cost_center")}
    ledgers = {r["sys_id"]: r["number"] for r in live.servicenow.table("sn_fin_gl_account")}
    by_invoice = {r["sys_id"]: n for n, r in staged.items()}
    all_lines = live.servicenow.table("sn_shop_invoice_line")
    memos = {r["sys_id"] for r in live.servicenow.table("sn_shop_invoice") if r["type"] == "credit_memo"}
    assert {r["invoice"] for r in all_lines} - set(by_invoice) <= memos  # the rest are credit memos' lines
    lines = {
        (by_invoice[r["invoice"]], r["erp_line_number"]): r for r in all_lines if r["invoice"] in by_invoice
    }
    expected_lines = {
        (key(b.bill_id), line.line_item_id): line for b in expected.good_bills for line in b.lines
    }
    assert set(lines) == set(expected_lines)
    for ref, line in expected_lines.items():
        assert cost_centers[lines[ref]["cost_center"]] == expected.cost_center_number(
            line.cost_center_option_id
        )
        assert ledgers[lines[ref]["ledger_account"]] == expected.gl_number(line.account_id)
    # VAT: one tax line per taxed line (one per component of a tax group), with the right amount per line
    taxes: dict[str, Decimal] = {}
    for r in live.servicenow.table("sn_shop_invoice_tax_line"):
        if r["invoice"] in memos:  # credit memos' tax lines: test_vendor_credits
            continue
        taxes[r["invoice_line"]] = taxes.get(r["invoice_line"], Decimal(0)) + Decimal(r["tax_amount"])
    expected_taxes = {
        (key(b.bill_id), lid): amount
        for b in expected.good_bills
        for lid, amount in Expected.line_tax(b).items()
    }
    line_ids = {r["sys_id"]: ref for ref, r in lines.items()}
    assert {line_ids[sys_id]: amount for sys_id, amount in taxes.items()} == expected_taxes
    # payments of good bills are staged, linked to their invoices
    good_ids = {b.bill_id for b in expected.good_bills}
    expected_payments = {
        (p.payment_id, a.bill_id)
        for p in expected.company.payments
        if all(x.bill_id in good_ids for x in p.allocations)
        for a in p.allocations
    }
    all_details = live.servicenow.table("sn_shop_invoice_payment_detail")
    settlements = [d for d in all_details if "-VC-" in d["payment_reference_id"]]  # credits applied to bills
    assert len(settlements) == sum(len(c.applications) for c in expected.company.vendor_credits)
    details = [d for d in all_details if "-VC-" not in d["payment_reference_id"]]
    assert len(details) == len(expected_payments)
    assert {by_invoice[d["invoice"]] for d in details} == {key(b) for _p, b in expected_payments}
    # the broken bills failed with reasons; none was sent
    failed = {r.zoho_id: r for r in audits(engine) if r.kind == "bill" and r.status == AuditStatus.FAILED}
    assert set(failed) == {b.bill_id for b in expected.broken_bills}
    codes = Counter(r.error_code for r in failed.values())
    assert set(codes) == {
        "UNMAPPED_COST_CENTER",
        "UNMAPPED_GL_ACCOUNT",
        "UNMAPPED_SUPPLIER",
        "MALFORMED_RECORD",
    }
    assert all(r.error_message for r in failed.values())
    assert {e.zoho_id for e in events if isinstance(e, RecordFailed) and e.kind == "bill"} == set(failed)
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunFinished)
    assert [e.stage for e in events if isinstance(e, StageFinished)] == [
        "pending",  # rows an interrupted run left pending (none here)
        "cost_centers",
        "gl_accounts",
        "suppliers",
        "bills",
        "attachments",  # the staged bills' documents
        "payments",
        "vendor_credits",
        "statuses",  # then the staged invoices are followed in ServiceNow
    ]
    with session_scope(engine) as session:
        run = session.exec(select(SyncRun)).one()
    assert (run.staged, run.failed, run.zoho_requests) == (
        summary.staged,
        summary.failed,
        summary.zoho_requests,
    )


async def test_replay_after_creating_the_missing_cost_centers_stages_the_blocked_bills(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    expected = Expected(company())
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)
    mappings = engine_service.mappings(profile_id)
    missing = [m for m in mappings.cost_centers if m.status == "missing"]
    assert {m.zoho_key for m in missing} == expected.missing_cost_centers
    assert all(m.blocked_bills > 0 for m in missing)
    for center in expected.company.cost_centers:
        if not center.exists_in_servicenow:
            live.servicenow.create_cost_center(center.account_number, center.name)

    summary = await engine_service.replay(profile_id)

    unblocked = {key(b.bill_id) for b in expected.company.bills if expected.blocked_only_by_cost_center(b)}
    assert unblocked
    assert set(invoices(live)) == {key(b.bill_id) for b in expected.good_bills} | unblocked
    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES  # the truly broken ones stay failed
    with session_scope(sqlite_engine) as session:
        record = session.exec(
            select(AuditRecord).where(AuditRecord.external_key == sorted(unblocked)[0])
        ).one()
        history = session.exec(
            select(AuditAttempt).where(AuditAttempt.audit_id == record.id).order_by(AuditAttempt.attempt_no)
        ).all()  # type: ignore[arg-type]
    assert record.status == AuditStatus.STAGED
    assert [a.status for a in history] == [AuditStatus.FAILED, AuditStatus.STAGED]
    assert history[0].error_code == "UNMAPPED_COST_CENTER"


async def test_second_run_stages_nothing_and_fetches_no_detail(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    engine_service = service(sqlite_engine, factories)
    first = await engine_service.run(profile_id)
    before = zoho_calls(live)
    staged_before = len(invoices(live))

    second = await engine_service.run(profile_id)  # incremental: only the overlap window is listed again
    full = await engine_service.run(profile_id, mode="full")  # every bill listed again, none fetched

    after = zoho_calls(live)
    assert [after[e] - before[e] for e in DETAIL_ENDPOINTS] == [0, 0]
    assert (second.staged, second.failed, full.staged, full.failed) == (0, 0, 0, 0)
    assert second.unchanged >= 1
    assert full.unchanged == first.staged + first.failed + first.skipped
    assert len(invoices(live)) == staged_before


async def test_webhook_bill_is_staged_without_a_zoho_request(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    expected = Expected(company())
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)
    bill = next(b for b in expected.good_bills if b.status in ("open", "overdue"))
    edited = live.zoho.edit_bill(bill.bill_id, {"due_date": "2031-01-31"})
    with live.zoho.state.lock:
        payload = {"bill": render.bill_detail(live.zoho.state, edited)}
    before = live.zoho.counters()["api"]["requests"]

    summary = await engine_service.process_webhook_bill(profile_id, payload, "bill.edited")

    assert live.zoho.counters()["api"]["requests"] == before
    assert summary.staged == 1
    assert invoices(live)[key(bill.bill_id)]["due_date"] == "2031-01-31"
    again = await engine_service.process_webhook_bill(profile_id, payload, "bill.edited")
    assert again.unchanged == 1  # the same delivery twice is staged once


async def test_voided_and_deleted_bills_are_flagged_with_their_invoice_state_not_cancelled(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    expected = Expected(company())
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)
    live.servicenow.run_job("invoice_processing")
    await engine_service.refresh_statuses(profile_id)  # the log now knows each invoice's state
    open_bills = [b for b in expected.good_bills if b.status in ("open", "overdue")]
    live.zoho.void_bill(open_bills[0].bill_id)
    live.zoho.delete_bill(open_bills[1].bill_id)
    before = {n: dict(r) for n, r in invoices(live).items()}

    summary = await engine_service.run(profile_id, mode="full")

    staged = invoices(live)
    for bill in open_bills[:2]:  # zbsn wrote nothing: cancelling an invoice is the AP team's action
        assert staged[key(bill.bill_id)]["state"] == before[key(bill.bill_id)]["state"] == "pending_approval"
        assert staged[key(bill.bill_id)]["sys_mod_count"] == before[key(bill.bill_id)]["sys_mod_count"]
    assert (summary.flagged, summary.cancelled) == (2, 0)
    records = {r.zoho_id: r for r in audits(sqlite_engine)}
    voided, deleted = records[open_bills[0].bill_id], records[open_bills[1].bill_id]
    assert (voided.status, voided.error_code) == (AuditStatus.FLAGGED, "VOIDED_IN_ZOHO")
    assert (deleted.status, deleted.error_code) == (AuditStatus.FLAGGED, "DELETED_IN_ZOHO")
    number = staged[key(open_bills[0].bill_id)]["number"]
    assert voided.error_message == (
        f"voided in Zoho Books: invoice {number} stays in ServiceNow (Pending approval); cancelling it is an "
        "AP specialist's action there (zbsn cancels no invoice)"
    )
    again = await engine_service.run(profile_id, mode="full")
    assert again.flagged == 0  # flagged once, not at every sweep

    # the AP team cancels the voided one in ServiceNow: the next refresh reads it and the flag is done
    live.servicenow.db.update(
        "sn_shop_invoice", staged[key(open_bills[0].bill_id)]["sys_id"], {"state": "canceled"}
    )
    await engine_service.refresh_statuses(profile_id)
    records = {r.zoho_id: r for r in audits(sqlite_engine)}
    assert records[open_bills[0].bill_id].status == AuditStatus.CANCELLED
    assert records[open_bills[0].bill_id].sn_status == "canceled"
    assert records[open_bills[1].bill_id].status == AuditStatus.FLAGGED


async def test_reconciliation_balances(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    expected = Expected(company())
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)

    report = await engine_service.reconcile(profile_id)

    assert report.balanced, report.unexplained
    assert report.servicenow.count == len(expected.good_bills)
    assert report.zoho.count == len(expected.good_bills) + len(expected.broken_bills)
    assert report.explained.count == len(expected.broken_bills)
    assert {d.kind for d in report.differences} == {"missing_in_servicenow"}


async def test_two_concurrent_runs_on_one_profile_never_overlap(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    engine_service = service(sqlite_engine, factories)
    results = await asyncio.gather(
        engine_service.run(profile_id), engine_service.run(profile_id), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RunLocked)]
    finished = [r for r in results if not isinstance(r, BaseException)]
    assert len(refused) == 1
    assert len(finished) == 1
    with session_scope(sqlite_engine) as session:
        assert len(session.exec(select(SyncRun)).all()) == 1


async def test_preview_writes_nothing_to_servicenow(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int, tmp_path: Any
) -> None:
    expected = Expected(company())
    before = live.servicenow.counters_snapshot()["requests_by_path"]

    report = await service(sqlite_engine, factories).preview(profile_id)

    after = live.servicenow.counters_snapshot()["requests_by_path"]
    assert [p for p in after if "/import/" in p] == []
    assert live.servicenow.table("sn_shop_invoice") == []
    assert sum(after.values()) > sum(before.values())  # it did read the masters
    assert report.counts["ready"] == len(expected.good_bills)
    assert report.counts["blocked"] + report.counts["unreadable"] == len(expected.broken_bills)
    blocked = report.blocked_by
    missing_names = {c.name for c in expected.company.cost_centers if not c.exists_in_servicenow}
    assert {s for (code, s) in blocked if code == "UNMAPPED_COST_CENTER"} == missing_names
    path = tmp_path / "preview.csv"
    report.to_csv(path)
    text = path.read_text()
    assert text.splitlines()[0].startswith("bill_number,bill_id,external_key")
    assert "CC-LON-100" in text
    assert audits(sqlite_engine) == []


async def test_revoked_zoho_grant_stops_the_run_with_reauth_and_resumes(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    engine_service = service(sqlite_engine, factories)
    live.zoho.revoke_all_refresh_tokens()
    try:
        stopped = await engine_service.run(profile_id)
        assert stopped.status == RunStatus.REAUTH
        assert stopped.message is not None
        assert "re-authoris" in stopped.message
        assert live.servicenow.table("sn_shop_invoice") == []
    finally:
        live.endpoints.zoho_tokens = await authorize_zoho_async(
            live.zoho.accounts_url,
            live.zoho.self_client_code(),
            live.endpoints.zoho_client_id,
            live.endpoints.zoho_client_secret,
        )
    resumed = await engine_service.run(profile_id)
    assert resumed.status == RunStatus.COMPLETED_WITH_FAILURES


async def test_cancel_stops_between_batches_and_leaves_nothing_pending(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    cancel = asyncio.Event()
    engine_service = EngineService(sqlite_engine, factories.zoho, factories.servicenow, batch_size=20)

    def sink(event: Event) -> None:
        if isinstance(event, RecordFailed) or getattr(event, "stage", None) == "bills":
            cancel.set()

    summary = await engine_service.run(profile_id, events=sink, cancel=cancel)

    assert summary.status == RunStatus.CANCELLED
    assert [r for r in audits(sqlite_engine) if r.status == AuditStatus.PENDING] == []
    resumed = await engine_service.run(profile_id)
    assert resumed.status == RunStatus.COMPLETED_WITH_FAILURES
    assert set(invoices(live)) == {key(b.bill_id) for b in Expected(company()).good_bills}


async def test_deleted_bill_webhook_is_flagged_with_no_zoho_request_and_no_write(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    expected = Expected(company())
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)
    bill = [b for b in expected.good_bills if b.status in ("open", "overdue")][2]
    live.zoho.delete_bill(bill.bill_id)
    before = live.zoho.counters()["api"]["requests"]
    imports = live.servicenow.counters_snapshot()["requests_by_path"]

    summary = await engine_service.process_webhook_bill(
        profile_id, {"bill": {"bill_id": bill.bill_id}}, "bill.deleted"
    )

    assert live.zoho.counters()["api"]["requests"] == before
    assert summary.flagged == 1
    assert invoices(live)[key(bill.bill_id)]["state"] == "draft"  # untouched
    after = live.servicenow.counters_snapshot()["requests_by_path"]
    assert {p: n for p, n in after.items() if "import" in p} == {
        p: n for p, n in imports.items() if "import" in p
    }


async def test_vendor_unknown_to_servicenow_is_staged_as_a_supplier_when_allowed(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    expected = Expected(company())
    profile_id = create_profile(sqlite_engine, live.endpoints, allow_supplier_create=True)
    missing = next(v for v in expected.company.vendors if not v.exists_in_servicenow)

    await service(sqlite_engine, factories).run(profile_id)

    created = [s for s in live.servicenow.table("sn_fin_supplier") if s["name"] == missing.name]
    assert len(created) == 1
    assert created[0]["erp_supplier_code"].startswith("ZB-")
    theirs = {
        key(b.bill_id)
        for b in expected.company.bills
        if b.vendor_id == missing.contact_id
        and b.status != "void"
        and b.defect is None
        and not any(line.cost_center_option_id in expected.missing_cost_centers for line in b.lines)
    }
    assert theirs
    assert theirs <= set(invoices(live))
    second = await service(sqlite_engine, factories).run(profile_id)
    assert len([s for s in live.servicenow.table("sn_fin_supplier") if s["name"] == missing.name]) == 1
    assert second.failed == 0


async def test_preview_of_a_period_and_replay_of_a_selection(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    expected = Expected(company())
    engine_service = service(sqlite_engine, factories)
    august = [b for b in expected.company.bills if b.date.month == 8]
    report = await engine_service.preview(profile_id, date_start=date(2026, 8, 1), date_end=date(2026, 8, 31))
    assert len(report.items) == len(august)
    assert report.counts["ready"] == len([b for b in august if expected.good(b)])

    await engine_service.run(profile_id)
    failed = [r for r in audits(sqlite_engine) if r.status == AuditStatus.FAILED and r.kind == "bill"]
    chosen = [r.id for r in failed[:2] if r.id is not None]
    summary = await engine_service.replay(profile_id, audit_ids=chosen)
    assert summary.failed == len(chosen)  # nothing changed: they fail again, with their history extended
    with session_scope(sqlite_engine) as session:
        attempts = session.exec(select(AuditAttempt).where(AuditAttempt.audit_id == chosen[0])).all()
    assert len(attempts) == 2


class CountingTarget:
    """The real ServiceNow client, noting how many `stage()` calls (batch writes) overlap."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.active = 0
        self.most = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def stage(self, rows: Any) -> Any:
        self.active += 1
        self.most = max(self.most, self.active)
        try:
            return await self._client.stage(rows)
        finally:
            self.active -= 1


async def test_bill_batches_are_written_several_at_once_and_each_bill_once(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    targets: list[CountingTarget] = []

    def servicenow(profile: Any) -> CountingTarget:
        targets.append(CountingTarget(factories.servicenow(profile)))
        return targets[-1]

    runner = EngineService(engine, factories.zoho, servicenow, batch_size=20, writes_in_flight=3).runner
    summary = await runner.run(profile_id)

    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES
    assert targets[0].most == 3  # 200 bills in batches of 20: the writes overlapped, never beyond the bound
    expected = Expected(company())
    assert set(invoices(live)) == {key(b.bill_id) for b in expected.good_bills}  # no duplicate, no gap
    with session_scope(engine) as session:
        left = session.exec(select(AuditRecord).where(AuditRecord.status == AuditStatus.PENDING)).all()
    assert left == []
