"""Vendor payments deleted in Zoho, noticed by a polling sync over real sockets: a changed-only read cannot
see a deletion (Zoho lists what changed since the cursor), a full sweep does, with no request beyond its list
pages, and flags it exactly as the delete webhook does; a sweep whose list page failed flags nothing; a
re-run neither repeats the flag nor writes to ServiceNow; replay and reconcile show the flag."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncCursor, SyncProfile
from zbsn.core.domain import AuditStatus, RecordKind, RunStatus
from zbsn.core.engine import cursors
from zbsn.core.engine.history import ReplayFilter
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.core.zoho.client import ZohoBooksClient

from .conftest import Sandboxes
from .expectations import key
from .harness import ClientFactories, create_profile

PAGE = 40  # the seeded company's 96 payments span three list pages


class SmallPages(ClientFactories):
    """Real clients that read Zoho's lists `PAGE` records a page."""

    def zoho(self, profile: SyncProfile) -> ZohoBooksClient:
        client = super().zoho(profile)
        client.per_page = PAGE
        return client


def service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def payments(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.PAYMENT)).all()
        return {r.zoho_id: r for r in rows}


def by_endpoint(live: Sandboxes) -> Counter[str]:
    return Counter(live.zoho.counters()["api"]["by_endpoint"])


def payment_details(live: Sandboxes) -> list[dict[str, object]]:
    return live.servicenow.table("sn_shop_invoice_payment_detail")


def payments_sweep(db: sa.Engine, profile_id: int) -> object:
    with session_scope(db) as session:
        row = session.exec(
            select(SyncCursor).where(
                SyncCursor.profile_id == profile_id, SyncCursor.entity == cursors.PAYMENTS
            )
        ).first()
        assert row is not None
        return row.last_full_sweep_at


def listing_order(live: Sandboxes) -> list[str]:
    """Payment ids in the order the client lists them (date ascending, then id)."""
    with live.zoho.state.lock:
        ordered = sorted(live.zoho.state.payments.values(), key=lambda p: (p.date, p.payment_id))
        return [p.payment_id for p in ordered]


async def test_a_full_sweep_flags_a_deleted_payment_that_a_changed_only_run_cannot_see(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    engine_service = service(engine, factories)
    await engine_service.run(profile_id)
    audits = payments(engine)
    staged = next(i for i, r in audits.items() if r.status == AuditStatus.STAGED)
    failed = next(i for i, r in audits.items() if r.status == AuditStatus.FAILED)
    with live.zoho.state.lock:
        paid_bills = [a.bill_id for a in live.zoho.state.payments[staged].allocations]
    details_before = len(payment_details(live))
    live.zoho.advance(60)
    live.zoho.delete_payment(staged)
    live.zoho.delete_payment(failed)

    # a changed-only run lists what changed since the cursor: a deleted payment is never listed again
    await engine_service.run(profile_id)
    assert payments(engine)[staged].status == AuditStatus.STAGED

    before = by_endpoint(live)
    summary = await engine_service.run(profile_id, mode="full")
    spent = by_endpoint(live) - before

    record = payments(engine)[staged]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.PAYMENT_DELETED_IN_ZOHO)
    assert record.error_message is not None
    assert "deleted in Zoho Books" in record.error_message
    assert "cannot delete them" in record.error_message
    never = payments(engine)[failed]
    assert never.status == AuditStatus.SKIPPED
    assert never.error_message == "deleted in Zoho Books; never staged, nothing to reverse"
    assert summary.flagged >= 1
    assert len(payment_details(live)) == details_before  # nothing written: ServiceNow keeps the details
    # the sweep cost its list page and nothing else on payments: no detail request for the unchanged ones
    assert spent["GET /vendorpayments"] == 1
    assert spent["GET /vendorpayments/{payment_id}"] == 0

    # again: the flag is final, neither repeated nor written
    attempts = record.attempts
    again = await engine_service.run(profile_id, mode="full")
    assert again.status != RunStatus.FAILED
    record = payments(engine)[staged]
    assert (record.status, record.attempts) == (AuditStatus.FLAGGED, attempts)
    assert payments(engine)[failed].attempts == never.attempts
    assert len(payment_details(live)) == details_before

    # replay of the flag: flagged again, never re-staged as payment details
    replayed = await engine_service.replay(profile_id, [record.id or 0])
    assert (replayed.flagged, replayed.staged) == (1, 0)
    record = payments(engine)[staged]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.PAYMENT_DELETED_IN_ZOHO)
    assert len(payment_details(live)) == details_before
    await engine_service.replay(
        profile_id, where=ReplayFilter(status=AuditStatus.FLAGGED, kind=RecordKind.PAYMENT)
    )
    record = payments(engine)[staged]
    assert (record.status, record.error_code) == (AuditStatus.FLAGGED, ErrorCode.PAYMENT_DELETED_IN_ZOHO)
    assert len(payment_details(live)) == details_before

    # reconcile: the invoices ServiceNow holds as paid are open again in Zoho, explained by the flag
    report = await engine_service.reconcile(profile_id, date(2000, 1, 1), date(2100, 1, 1))
    for bill_id in paid_bills:
        found = [d for d in report.state_differences if d.external_key == key(bill_id)]
        assert found, bill_id
        assert found[0].kind == "payment_mismatch"
        assert found[0].detail.startswith("paid in ServiceNow")
        assert found[0].explained
        assert "deleted in Zoho Books" in found[0].detail


async def test_a_sweep_whose_list_page_failed_flags_no_payment(
    sqlite_engine: sa.Engine, live: Sandboxes
) -> None:
    small = SmallPages(live.endpoints)
    profile_id = create_profile(sqlite_engine, live.endpoints)
    engine_service = service(sqlite_engine, small)
    await engine_service.run(profile_id)
    audits = payments(sqlite_engine)
    order = listing_order(live)
    assert len(order) > 2 * PAGE
    later = [i for i in order[PAGE:] if audits[i].status == AuditStatus.STAGED]
    assert later  # staged payments a partial listing would not hold
    deleted = order[0]  # on the first page, which loads
    assert audits[deleted].status == AuditStatus.STAGED
    sweep_before = payments_sweep(sqlite_engine, profile_id)
    details_before = len(payment_details(live))
    live.zoho.advance(60)
    live.zoho.delete_payment(deleted)

    # every payments page after the first fails (HTTP 500, retries included): the listing is partial
    live.zoho.set_faults(
        fault_rate=1.0, kinds={"error_5xx": 1}, endpoints=["GET /vendorpayments"], from_page=2, seed=1
    )
    try:
        failed_run = await engine_service.run(profile_id, mode="full")
    finally:
        live.zoho.set_faults(fault_rate=0.0, kinds={}, endpoints=[], from_page=1)

    assert failed_run.status == RunStatus.FAILED
    assert failed_run.message
    assert live.zoho.counters()["faults"]["injected"]["error_5xx"] >= 1
    after = payments(sqlite_engine)
    assert not [i for i, r in after.items() if r.status == AuditStatus.FLAGGED]
    assert all(after[i].status == AuditStatus.STAGED for i in later)
    assert after[deleted].status == AuditStatus.STAGED  # not even the one really deleted: no sweep
    assert payments_sweep(sqlite_engine, profile_id) == sweep_before
    assert len(payment_details(live)) == details_before

    # the listing whole again: exactly the deleted payment is flagged
    await engine_service.run(profile_id, mode="full")
    flagged = {i for i, r in payments(sqlite_engine).items() if r.status == AuditStatus.FLAGGED}
    assert flagged == {deleted}
    assert payments_sweep(sqlite_engine, profile_id) != sweep_before
    assert len(payment_details(live)) == details_before


async def test_the_webhook_and_the_sweep_flag_a_deleted_payment_once(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    engine_service = service(sqlite_engine, factories)
    await engine_service.run(profile_id)
    staged = next(i for i, r in payments(sqlite_engine).items() if r.status == AuditStatus.STAGED)
    stored = payments(sqlite_engine)[staged].source_payload
    live.zoho.advance(60)
    live.zoho.delete_payment(staged)

    hook = await engine_service.process_webhook_payment(
        profile_id, {"vendorpayment": {"payment_id": staged}}, "vendorpayment.deleted"
    )
    assert hook.flagged == 1
    record = payments(sqlite_engine)[staged]
    message, attempts = record.error_message, record.attempts
    assert record.source_payload == stored  # a bare id keeps what the payment paid
    sweep = await engine_service.run(profile_id, mode="full")
    record = payments(sqlite_engine)[staged]
    assert (record.status, record.error_message, record.attempts) == (AuditStatus.FLAGGED, message, attempts)
    assert sweep.status != RunStatus.FAILED
