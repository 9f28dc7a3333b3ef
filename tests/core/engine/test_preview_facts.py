"""What the preview and the audit detail give the console beyond the invoice document, over real sockets:
each line's taxes (a tax group's components), the due date, Zoho's terms label and the remit-to address of
every read bill; each vendor credit's date, memo lines and settled bills' numbers; and a staged bill's
attached documents in its audit detail."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core import audit_query
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.company_generator import line_taxes

from .conftest import Sandboxes, company
from .expectations import Expected
from .harness import ClientFactories, create_profile


async def test_preview_items_carry_taxes_per_line_terms_due_date_and_remit_to(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    expected = Expected(company())
    vendors = {v.contact_id: v for v in expected.company.vendors}
    service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    report = await service.preview(profile_id)
    items = {item.bill_id: item for item in report.items}
    grouped = 0
    for bill in expected.good_bills:
        facts = items[bill.bill_id].facts
        assert facts is not None
        assert facts.due_date == bill.due_date.isoformat()
        assert facts.payment_terms_label == (bill.payment_terms_label or None)
        vendor = vendors[bill.vendor_id]
        assert facts.remit_to["u_remit_to_city"] == vendor.city
        for line in bill.lines:
            shown = [(p.name, p.rate, p.amount) for p in facts.line_taxes[line.line_item_id]]
            assert shown == [(name, pct, amount) for _i, name, pct, amount in line_taxes(line) if amount]
            grouped += len(shown) > 1
    assert grouped  # the seeded sales-tax group: one part per component
    waiting = [item for item in report.items if item.outcome == "waiting"]
    assert waiting
    assert all(item.facts is None for item in waiting)  # never read: no detail request

    memos = {c.vendor_credit_id: c for c in report.credits}
    for credit in company().vendor_credits:
        shown = memos[credit.vendor_credit_id]
        assert shown.date == credit.date.isoformat()
        assert shown.memo is not None
        assert len(shown.memo.lines) == len(credit.lines)
        assert shown.memo.total == shown.total
        numbers = {b.bill_id: b.bill_number for b in expected.company.bills}
        assert shown.bill_numbers == {a.bill_id: numbers[a.bill_id] for a in credit.applications}


async def test_a_staged_bills_audit_detail_lists_its_attached_document(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    await EngineService(sqlite_engine, factories.zoho, factories.servicenow).run(profile_id)
    with_documents = {b.bill_id: b for b in company().bills if b.documents}
    with session_scope(sqlite_engine) as session:
        records = session.exec(
            select(AuditRecord).where(
                AuditRecord.kind == RecordKind.BILL, AuditRecord.status == AuditStatus.STAGED
            )
        ).all()
        staged = [(r.id, r.zoho_id) for r in records if r.zoho_id in with_documents]
    assert staged
    for audit_id, bill_id in staged:
        assert audit_id is not None
        detail = audit_query.detail(sqlite_engine, audit_id)
        assert detail is not None
        document = with_documents[bill_id].documents[0]
        assert [d.document_id for d in detail.documents] == [document.document_id]
        assert detail.documents[0].file_name == document.file_name
        assert detail.documents[0].status == AuditStatus.STAGED
        assert detail.documents[0].size_bytes
