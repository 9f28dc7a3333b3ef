"""Supplier <-> legal entity mappings staged through sn_fcms_intg_supplier_legal_entity_inbound: a supplier
zbsn creates carries its mapping; a bill whose supplier has none for the profile's legal entity carries it
when the profile stages master data (preview: "will be created"), else the preview warns and the invoice
meets 'Invalid or blocked supplier'; a re-run adds no second mapping."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.columns import SUPPLIER_LEGAL_ENTITY_TABLE, SUPPLIER_TABLE
from zbsn.core.engine.service import EngineService
from zbsn.core.engine.transform import bill_to_invoice
from zbsn.core.engine.transform_suppliers import supplier_rows
from zbsn.core.zoho.models import ZohoVendor
from zbsn.sandbox.company_generator import VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile
from .test_transform import CONTEXT, bill, index

BLOCKED = "Invalid or blocked supplier"


def test_a_bill_of_an_unmapped_supplier_carries_the_mapping_when_master_data_is_staged() -> None:
    unmapped = index(mapped_suppliers=frozenset({"SUP1021"}))
    creating = dataclasses.replace(CONTEXT, allow_supplier_create=True)
    document = bill_to_invoice(bill(payment_terms_label="Net 30"), creating, unmapped)
    assert document.ok
    assert document.rows[0].table == "sn_spend_intg_imp_invoice"  # the record's outcome stays the header's
    (mapping,) = [r for r in document.rows if r.table == SUPPLIER_LEGAL_ENTITY_TABLE]
    assert mapping.values == {
        "u_supplier": "SUP-1020",
        "u_legal_entity": "NWA-UK",
        "u_payment_term": "Net 30",
    }
    assert mapping.source_ref == "ZB-200-SLE-SUP-1020-NWA-UK"
    assert any("SUP-1020 <-> NWA-UK will be created" in note for note in document.notes)

    warned = bill_to_invoice(bill(), CONTEXT, unmapped)  # the profile does not stage master data
    assert warned.ok
    assert not [r for r in warned.rows if r.table == SUPPLIER_LEGAL_ENTITY_TABLE]
    assert any(BLOCKED in note and note.startswith("warning") for note in warned.notes)

    for known in (index(mapped_suppliers=frozenset({"SUP1020"})), index()):  # mapped, or not read
        plain = bill_to_invoice(bill(), creating, known)
        assert not [r for r in plain.rows if r.table == SUPPLIER_LEGAL_ENTITY_TABLE]
        assert not any("legal entity mapping" in note for note in plain.notes)


def test_a_supplier_zbsn_creates_carries_its_mapping_after_its_own_row() -> None:
    vendor = ZohoVendor.model_validate({"contact_id": "77", "contact_name": "New Vendor Ltd"})
    supplier, mapping = supplier_rows(vendor, CONTEXT)
    assert supplier.table == SUPPLIER_TABLE
    assert mapping.table == SUPPLIER_LEGAL_ENTITY_TABLE
    assert mapping.values == {"u_supplier": "ZB-200-V-77", "u_legal_entity": "NWA-UK"}


def test_the_mapping_carries_the_vendors_default_payment_terms() -> None:
    listed = {
        "contact_id": "78",
        "contact_name": "Terms Ltd",
        "payment_terms": 45,
        "payment_terms_label": "Net 45",
    }
    _supplier, mapping = supplier_rows(ZohoVendor.model_validate(listed), CONTEXT)
    assert mapping.values["u_payment_term"] == "Net 45"
    due_now = {"contact_id": "79", "contact_name": "Cash Ltd", "payment_terms": 0, "payment_terms_label": ""}
    _supplier, mapping = supplier_rows(ZohoVendor.model_validate(due_now), CONTEXT)
    assert mapping.values["u_payment_term"] == "Due on Receipt"


def _details_of(live: Sandboxes, name: str) -> list[dict[str, str]]:
    supplier = next(r for r in live.servicenow.table("sn_fin_supplier") if r["name"] == name)
    return [d for d in live.servicenow.table("sn_fin_supplier_detail") if d["supplier"] == supplier["sys_id"]]


def _findings(live: Sandboxes, bill_id: str) -> set[str]:
    invoices = live.servicenow.table("sn_shop_invoice")
    invoice = next(r for r in invoices if r["external_invoice_number"] == key(bill_id))
    return {f.definition for f in live.servicenow.lifecycle.exceptions.findings(invoice)}


async def test_mappings_are_staged_once_and_clear_the_exception(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    seeded = company()
    assert not _details_of(live, VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING)  # the seeded company needs one
    profile_id = create_profile(sqlite_engine, live.endpoints, allow_supplier_create=True)
    service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)

    report = await service.preview(profile_id, date_start=seeded.bills[0].date.replace(day=1))
    vendor = next(v for v in seeded.vendors if v.name == VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING)
    theirs = [i for i in report.items if i.document and i.document.vendor_id == vendor.contact_id]
    assert theirs
    assert all(
        any(
            f"{vendor.supplier_code} <-> {seeded.legal_entity.company_code} will be created" in n
            for n in i.document.notes
        )
        for i in theirs
        if i.document and i.outcome == "ready"
    )

    await service.run(profile_id)
    await service.run(profile_id)  # the supplier created in the first run stages its bills now
    (detail,) = _details_of(live, VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING)
    assert detail["hold_payment"] == "false"
    good = [b for b in Expected(seeded).good_bills if b.vendor_id == vendor.contact_id]
    assert good
    for zoho_bill in good:
        assert BLOCKED not in _findings(live, zoho_bill.bill_id)
    created = next(v for v in seeded.vendors if not v.exists_in_servicenow)
    assert len(_details_of(live, created.name)) == 1  # the created supplier came with its mapping
    with session_scope(sqlite_engine) as session:
        suppliers = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.SUPPLIER)).all()
        assert [r.status for r in suppliers if r.vendor_name == created.name] == [AuditStatus.STAGED]

    details_before = len(live.servicenow.table("sn_fin_supplier_detail"))
    await service.run(profile_id, mode="full")
    assert len(live.servicenow.table("sn_fin_supplier_detail")) == details_before  # no duplicate
    assert len(_details_of(live, VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING)) == 1


async def test_without_master_data_staging_the_preview_warns_and_the_invoice_meets_the_exception(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    seeded = company()
    vendor = next(v for v in seeded.vendors if v.name == VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING)
    profile_id = create_profile(sqlite_engine, live.endpoints)
    service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    report = await service.preview(profile_id, date_start=seeded.bills[0].date.replace(day=1))
    theirs = [i for i in report.items if i.document and i.document.vendor_id == vendor.contact_id]
    assert theirs
    assert all(any(BLOCKED in n for n in i.document.notes) for i in theirs if i.document)

    await service.run(profile_id)
    assert not _details_of(live, VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING)
    good = [b for b in Expected(seeded).good_bills if b.vendor_id == vendor.contact_id]
    assert good
    for zoho_bill in good:
        assert BLOCKED in _findings(live, zoho_bill.bill_id)
