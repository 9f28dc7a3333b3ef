"""Complete invoices over real sockets: Zoho's own sub_total, tax_total and per-line taxes (a tax group's
components each a tax line), the adjustment as other charges (a bill with one is no longer malformed),
discounts, payment terms, and the vendor's address as the remit-to of payments (ISO 3166 country)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncProfile
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.payment_terms import dump_overrides
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.company import Bill
from zbsn.sandbox.company_generator import SALES_TAX_GROUP, bill_total, line_taxes

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile


def service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def invoices(live: Sandboxes) -> dict[str, dict[str, str]]:
    return {r["external_invoice_number"]: r for r in live.servicenow.table("sn_shop_invoice")}


def bill_statuses(db: sa.Engine) -> dict[str, AuditRecord]:
    with session_scope(db) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all()
        return {r.zoho_id: r for r in rows}


def sub_total(bill: Bill) -> Decimal:
    return sum(((line.quantity * line.rate).quantize(Decimal("0.01")) for line in bill.lines), Decimal(0))


async def test_adjustments_discounts_and_tax_groups_stage_as_zoho_computed_them(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    expected = Expected(company())
    good = expected.good_bills
    adjusted = [b for b in good if b.adjustment]
    discounted = [b for b in good if b.discount]
    grouped = [b for b in good if any(line.tax_components for line in b.lines)]
    assert adjusted
    assert discounted
    assert grouped

    await service(sqlite_engine, factories).run(profile_id)

    audits = bill_statuses(sqlite_engine)
    staged = invoices(live)
    for bill in good:
        assert audits[bill.bill_id].status == AuditStatus.STAGED, audits[bill.bill_id].error_message
        invoice = staged[key(bill.bill_id)]
        taxes = sum((t[3] for line in bill.lines for t in line_taxes(line)), Decimal(0))
        assert Decimal(invoice["subtotal"]) == sub_total(bill)
        assert Decimal(invoice["tax_amount"]) == taxes
        assert Decimal(invoice["other_charges"]) == bill.adjustment  # always sent, 0 when none
        assert Decimal(invoice["discounts"] or "0") == bill.discount
        assert Decimal(invoice["invoice_amount"]) == bill_total(bill)
        vendor = next(v for v in expected.company.vendors if v.contact_id == bill.vendor_id)
        assert invoice["payment_terms"] == vendor.payment_terms_label
    # a tax group: one tax line per component, named as in Zoho, with Zoho's amounts
    lines = {r["sys_id"]: r for r in live.servicenow.table("sn_shop_invoice_line")}
    tax_lines = live.servicenow.table("sn_shop_invoice_tax_line")
    for bill in grouped:
        invoice = staged[key(bill.bill_id)]
        for line in bill.lines:
            found = sorted(
                (t["tax_type"], Decimal(t["tax_amount"]))
                for t in tax_lines
                if t["invoice"] == invoice["sys_id"]
                and lines[t["invoice_line"]]["erp_line_number"] == line.line_item_id
            )
            assert found == sorted((name or "", amount) for _i, name, _p, amount in line_taxes(line))
            assert [name for name, _amount in found] == sorted(c.tax_name for c in SALES_TAX_GROUP)

    # ServiceNow's checks pass the first time: no "isn't balanced", no "missing required information"
    live.servicenow.run_job("invoice_processing")
    findings = {(r["invoice"], r["short_description"]) for r in live.servicenow.table("sn_ap_apm_exception")}
    special = {staged[key(b.bill_id)]["sys_id"] for b in (*adjusted, *discounted, *grouped)}
    assert not [f for f in findings if f[0] in special]


async def test_payment_terms_follow_the_profiles_override(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    with session_scope(sqlite_engine) as session:
        profile = session.get(SyncProfile, profile_id)
        assert profile is not None
        profile.payment_terms_overrides = dump_overrides({"net 30": "Net 030", "Due on Receipt": "Immediate"})
        session.add(profile)
    expected = Expected(company())
    await service(sqlite_engine, factories).run(profile_id)
    staged = invoices(live)
    vendors = {v.contact_id: v for v in expected.company.vendors}
    wanted = {"Net 30": "Net 030", "Due on Receipt": "Immediate"}
    seen = set()
    for bill in expected.good_bills:
        label = vendors[bill.vendor_id].payment_terms_label
        assert staged[key(bill.bill_id)]["payment_terms"] == wanted.get(label, label)
        seen.add(label)
    assert {"Net 30", "Due on Receipt", "Net 15"} <= seen


async def test_payment_details_carry_the_vendors_address_as_remit_to(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    expected = Expected(company())
    await service(sqlite_engine, factories).run(profile_id)
    details = live.servicenow.table("sn_shop_invoice_payment_detail")
    assert details
    by_invoice = {r["sys_id"]: r for r in live.servicenow.table("sn_shop_invoice")}
    bills = {key(b.bill_id): b for b in expected.company.bills}
    vendors = {v.contact_id: v for v in expected.company.vendors}
    countries = set()
    remit_columns = [c for c in details[0] if c.startswith("remit_to_")]
    assert len(remit_columns) == 5
    # a vendor credit applied to a bill pays nothing to any address: its settlement carries no remit-to
    settlements = [d for d in details if "-VC-" in d["payment_reference_id"]]
    assert settlements
    assert all(d[c] == "" for d in settlements for c in remit_columns)
    payments = [d for d in details if "-VC-" not in d["payment_reference_id"]]
    assert payments
    for detail in payments:
        bill = bills[by_invoice[detail["invoice"]]["external_invoice_number"]]
        vendor = vendors[bill.vendor_id]
        assert detail["remit_to_street"] == vendor.street
        assert detail["remit_to_city"] == vendor.city
        assert detail["remit_to_state_or_province"] == vendor.state
        assert detail["remit_to_zip_or_postal_code"] == vendor.zip
        assert detail["remit_to_country"] == vendor.country_code
        countries.add(detail["remit_to_country"])
    assert {"GB", "US"} <= countries
