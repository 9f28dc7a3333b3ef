"""The generated demo company: deterministic, with the proportions and broken records the demo needs."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import (
    DELETED_ACCOUNT_ID,
    MISSING_VENDOR_ID,
    bill_total,
    generate_company,
)


def _missing_options(company: Company) -> set[str]:
    return {cc.tag_option_id for cc in company.cost_centers if not cc.exists_in_servicenow}


def _blocked(company: Company) -> list[str]:
    missing = _missing_options(company)
    return [
        b.bill_id for b in company.bills if any(line.cost_center_option_id in missing for line in b.lines)
    ]


def test_same_seed_and_size_give_identical_data() -> None:
    assert generate_company(7, 300) == generate_company(7, 300)
    assert generate_company(7, 300) != generate_company(8, 300)


def test_master_data_shape() -> None:
    company = generate_company(7, 200)
    assert len(company.offices) == 3
    assert len(company.cost_centers) == 8
    assert {cc.office_location_id for cc in company.cost_centers} == {o.location_id for o in company.offices}
    assert all(cc.account_number.startswith("CC-") for cc in company.cost_centers)
    assert sorted(cc.account_number for cc in company.cost_centers if not cc.exists_in_servicenow) == [
        "CC-EDI-200",
        "CC-LON-300",
    ]
    assert all(a.exists_in_servicenow for a in company.accounts)
    assert sum(a.account_type == "expense" for a in company.accounts) == 15
    assert [a.account_type for a in company.accounts].count("accounts_payable") == 1
    assert 24 <= len(company.vendors) <= 26
    assert sum(not v.exists_in_servicenow for v in company.vendors) == 1
    assert any("^OR" in v.name and "=" in v.name for v in company.vendors)
    assert all(v.tax_id and v.supplier_code for v in company.vendors)
    ids = [b.bill_id for b in company.bills] + [p.payment_id for p in company.payments]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 18 and i.isdigit() for i in ids)


@pytest.mark.parametrize("size", [50, 200, 2000])
def test_proportions(size: int) -> None:
    company = generate_company(7, size)
    bills = company.bills
    blocked = _blocked(company)
    assert 1 <= len(blocked) <= 0.2 * size  # a visible minority
    foreign = [b for b in bills if b.currency_code != "GBP"]
    assert 0.04 * size <= len(foreign) <= 0.18 * size
    assert all(b.exchange_rate != 1 for b in foreign)
    assert all(1 <= len(b.lines) <= 5 for b in bills)
    statuses = Counter(b.status for b in bills)
    assert statuses["void"] <= 0.08 * size
    if size >= 200:
        assert statuses["void"] >= 1
        assert statuses["paid"] > 0
        assert statuses["partially_paid"] > 0
    assert len({b.date.month for b in bills}) == 4
    assert all(b.date.isoformat() < "2026-11-01" for b in bills)


def test_statuses_agree_with_payments() -> None:
    company = generate_company(7, 500)
    paid: dict[str, Decimal] = {}
    for payment in company.payments:
        assert payment.amount == sum(a.amount_applied for a in payment.allocations)
        for allocation in payment.allocations:
            paid[allocation.bill_id] = paid.get(allocation.bill_id, Decimal(0)) + allocation.amount_applied
    for bill in company.bills:
        total, settled = bill_total(bill), paid.get(bill.bill_id, Decimal(0))
        if bill.status == "paid":
            assert settled == total
        elif bill.status == "partially_paid":
            assert 0 < settled < total
        else:
            assert settled == 0, bill.status
    assert any(len(p.allocations) == 2 for p in company.payments)
    assert any(
        p.amount < bill_total(next(b for b in company.bills if b.bill_id == p.allocations[0].bill_id))
        for p in company.payments
        if len(p.allocations) == 1
    )


def test_broken_records_present_and_separate_from_blocked_ones() -> None:
    company = generate_company(7, 200)
    defects = {b.bill_id: b for b in company.bills if b.defect}
    assert {b.defect for b in defects.values()} == {"deleted_account", "malformed_amount", "missing_vendor"}
    account_ids = {a.account_id for a in company.accounts}
    vendor_ids = {v.contact_id for v in company.vendors}
    for bill in defects.values():
        if bill.defect == "deleted_account":
            assert bill.lines[0].account_id == DELETED_ACCOUNT_ID not in account_ids
        if bill.defect == "missing_vendor":
            assert bill.vendor_id == MISSING_VENDOR_ID not in vendor_ids
    assert not set(defects) & set(_blocked(company))
    clean = [b for b in company.bills if not b.defect]
    assert all(line.account_id in account_ids for b in clean for line in b.lines)
    assert all(b.vendor_id in vendor_ids for b in clean)


def test_a_large_company_keeps_unique_ids_and_its_share_of_blocked_bills() -> None:
    # How fast the generator is shows in the benchmarks (they generate 100,000 bills), not in a timed test.
    company = generate_company(7, 20_000)
    assert len(company.bills) == 20_000
    assert len({b.bill_id for b in company.bills}) == 20_000
    assert 0.05 < len(_blocked(company)) / 20_000 < 0.15
