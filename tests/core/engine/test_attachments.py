"""The vendor's invoice document, end to end over real sockets: fetched from the Zoho sandbox (one request per
bill that carries one), attached to the staged invoice in the ServiceNow sandbox's Attachment API, never twice
across runs and replays; a document over the size setting fails its attachment, not the invoice."""

from __future__ import annotations

import json
from collections import Counter

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.history import ReplayFilter
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.documents import pdf_bytes

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile

ATTACHMENT_ENDPOINT = "GET /bills/{bill_id}/attachment"


def attachment_rows(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.ATTACHMENT)).all()
    return {r.zoho_id: r for r in rows}


def zoho_calls(live: Sandboxes) -> Counter[str]:
    return Counter(live.zoho.counters()["api"]["by_endpoint"])


def staged_with_documents(live: Sandboxes) -> dict[str, tuple[str, object]]:
    """External invoice number -> (invoice sys_id, the seeded bill) for good bills carrying a document."""
    expected = Expected(company())
    invoices = {r["external_invoice_number"]: r["sys_id"] for r in live.servicenow.table("sn_shop_invoice")}
    return {
        key(b.bill_id): (invoices[key(b.bill_id)], b)
        for b in expected.good_bills
        if b.documents and key(b.bill_id) in invoices
    }


async def test_each_staged_bill_gets_its_document_once(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow)
    summary = await service.run(profile_id)

    with_documents = staged_with_documents(live)
    assert len(with_documents) >= 10  # the seeded company gives about one bill in seven a PDF
    files = live.servicenow.attachment_api
    for invoice_sys_id, bill in with_documents.values():
        attached = files.of_record("sn_shop_invoice", invoice_sys_id)
        assert len(attached) == 1
        document = bill.documents[0]  # type: ignore[attr-defined]
        assert attached[0].file_name == document.file_name
        assert attached[0].content == pdf_bytes(bill, document)  # type: ignore[arg-type]
        assert attached[0].content.startswith(b"%PDF-")
        assert attached[0].content_type == "application/pdf"
    # one Zoho request per attached document, inside the run's count
    calls = zoho_calls(live)
    assert calls[ATTACHMENT_ENDPOINT] == len(with_documents)
    assert summary.zoho_requests == sum(calls.values())
    # the audit log shows each, by Zoho's document id, with its name and size
    rows = attachment_rows(engine)
    assert len(rows) == len(with_documents)
    for _invoice, bill in with_documents.values():
        document = bill.documents[0]  # type: ignore[attr-defined]
        row = rows[document.document_id]
        assert row.status == AuditStatus.STAGED
        assert row.sn_sys_id == files.of_record("sn_shop_invoice", _invoice)[0].sys_id
        shown = json.loads(row.source_payload or "{}")
        assert shown["file_name"] == document.file_name
        assert shown["size_bytes"] == len(pdf_bytes(bill, document))  # type: ignore[arg-type]

    # a full re-run re-stages nothing new and attaches nothing twice; nor does a replay of every bill
    before = zoho_calls(live)[ATTACHMENT_ENDPOINT]
    await service.run(profile_id, mode="full")
    await service.replay(profile_id, where=ReplayFilter(status=AuditStatus.STAGED, kind=RecordKind.BILL))
    for invoice_sys_id, _bill in with_documents.values():
        assert len(files.of_record("sn_shop_invoice", invoice_sys_id)) == 1
    assert zoho_calls(live)[ATTACHMENT_ENDPOINT] == before


async def test_an_oversized_document_fails_its_attachment_not_the_invoice(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow, attachment_max_bytes=20_000)
    await service.run(profile_id)

    with_documents = staged_with_documents(live)
    sizes = {
        b.documents[0].document_id: len(pdf_bytes(b, b.documents[0]))  # type: ignore[attr-defined]
        for _sys_id, b in with_documents.values()
    }
    too_large = {d for d, size in sizes.items() if size > 20_000}
    assert too_large  # the seed pads a few PDFs past 48 kB
    assert len(too_large) < len(sizes)
    rows = attachment_rows(engine)
    for document_id in too_large:
        row = rows[document_id]
        assert row.status == AuditStatus.FAILED
        assert row.error_code == ErrorCode.ATTACHMENT_TOO_LARGE
        assert "over the 20,000-byte limit" in (row.error_message or "")
    # no Zoho request spent on a file that cannot go (Zoho declares the size), and the invoices are staged
    assert zoho_calls(live)[ATTACHMENT_ENDPOINT] == len(sizes) - len(too_large)
    with session_scope(engine) as session:
        bills = {
            r.zoho_id: r for r in session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL))
        }
    for invoice_sys_id, bill in with_documents.values():
        assert bills[bill.bill_id].status == AuditStatus.STAGED  # type: ignore[attr-defined]
        attached = live.servicenow.attachment_api.of_record("sn_shop_invoice", invoice_sys_id)
        assert len(attached) == (0 if bill.documents[0].document_id in too_large else 1)  # type: ignore[attr-defined]


async def test_replay_attaches_what_failed_once_the_limit_allows_it(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    strict = EngineService(engine, factories.zoho, factories.servicenow, attachment_max_bytes=20_000)
    await strict.run(profile_id)
    failed = {d for d, r in attachment_rows(engine).items() if r.status == AuditStatus.FAILED}
    assert failed

    # the preview names each document with its size and what a run does with it
    preview = await strict.preview(profile_id, date_start=company().bills[0].date)
    shown = {a.document_id: a for item in preview.items for a in item.attachments}
    assert {d for d, a in shown.items() if a.outcome == "too_large"} == failed
    assert {d for d, a in shown.items() if a.outcome == "attached"} == set(attachment_rows(engine)) - failed
    assert all(a.file_name and a.size_bytes for a in shown.values())

    relaxed = EngineService(engine, factories.zoho, factories.servicenow)
    summary = await relaxed.replay(profile_id, where=ReplayFilter(kind=RecordKind.ATTACHMENT))
    assert summary.failed == 0
    rows = attachment_rows(engine)
    assert all(rows[d].status == AuditStatus.STAGED for d in failed)
    for invoice_sys_id, _bill in staged_with_documents(live).values():
        assert len(live.servicenow.attachment_api.of_record("sn_shop_invoice", invoice_sys_id)) == 1
