"""Bills, payments and vendors to staging rows: keys, amounts and FX, dates, ERP numbers, validation."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from zbsn.core.engine.columns import WRITTEN
from zbsn.core.engine.mapping_index import MappedRef, MappingIndex
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.staging_values import local_date
from zbsn.core.engine.transform import bill_to_invoice
from zbsn.core.engine.transform_payments import payment_to_details
from zbsn.core.zoho.models import ZohoBill, ZohoVendorPayment

CONTEXT = RunContext(
    profile_id=1, organization_id="200", time_zone="Europe/London", base_currency="GBP", legal_entity="NWA-UK"
)


def index(**changes: Any) -> MappingIndex:
    built = MappingIndex(
        cost_centers={
            "opt-1": MappedRef("Consulting \u2013 London", "CC-LON-100"),
            "opt-3": MappedRef("Technology \u2013 London", None),
        },
        gl_accounts={"acc-1": MappedRef("Travel", "6110")},
        suppliers={"v1": MappedRef("Berliner Beratung GmbH", "SUP-1020", tax_id="DE123")},
        legal_entity="NWA-UK",
        currencies=frozenset({"GBP", "EUR", "USD"}),
    )
    for name, value in changes.items():
        setattr(built, name, value)
    return built


def bill(**changes: Any) -> ZohoBill:
    data: dict[str, Any] = {
        "bill_id": "460",
        "bill_number": "BILL-000001",
        "vendor_id": "v1",
        "vendor_name": "Berliner Beratung GmbH",
        "status": "open",
        "date": "2026-07-01",
        "due_date": "2026-07-31",
        "currency_code": "EUR",
        "exchange_rate": 0.8561,
        "total": 144.0,
        "reference_number": "PO-1",
        "line_items": [
            {
                "line_item_id": "L1",
                "account_id": "acc-1",
                "account_name": "Travel",
                "quantity": 2,
                "rate": "60.00",
                "item_total": 120,
                "tax_id": "t",
                "tax_name": "VAT 20%",
                "tax_percentage": 20,
                "tags": [
                    {
                        "tag_id": "T",
                        "tag_name": "Cost Center",
                        "tag_option_id": "opt-1",
                        "tag_option_name": "x",
                    }
                ],
            }
        ],
    }
    data.update(changes)
    return ZohoBill.model_validate(data)


def test_invoice_rows_carry_key_amounts_fx_and_mapped_references() -> None:
    document = bill_to_invoice(bill(), CONTEXT, index())
    assert document.ok
    header, fx, line, tax = document.rows
    assert header.values["u_external_invoice_number"] == "ZB-200-460" == document.external_key
    assert header.values["u_currency"] == "EUR"
    assert (
        header.values["u_subtotal"],
        header.values["u_tax_amount"],
        header.values["u_amount_invoiced"],
    ) == ("120.00", "24.00", "144.00")
    # the rate travels in its FX rate row, staged before the invoice (fx_rates.py), not in a header column
    assert fx.values["u_exchange_rate"] == "0.8561"
    assert "u_exchange_rate" not in header.values
    assert header.values["u_short_description"] == "Zoho Books bill BILL-000001"
    assert (header.values["u_supplier"], header.values["u_legal_entity"]) == ("SUP-1020", "NWA-UK")
    assert (header.values["u_invoice_date"], header.values["u_erp_source"]) == ("2026-07-01", "Zoho Books")
    assert (line.values["u_cost_center"], line.values["u_gl_account"]) == ("CC-LON-100", "6110")
    assert (line.values["u_erp_line_number"], line.values["u_line_amount_invoiced"]) == ("L1", "144.00")
    assert (tax.values["u_tax_amount"], tax.values["u_supplier_tax_rate"]) == ("24.00", "20")
    assert bill_to_invoice(bill(), CONTEXT, index()).rows == document.rows  # stable


def test_dates_are_the_orgs_local_dates() -> None:
    late_evening_utc = datetime(2026, 6, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert local_date(None, late_evening_utc, "Europe/London") == "2026-07-01"
    assert local_date(date(2026, 7, 1), late_evening_utc, "UTC") == "2026-07-01"


def test_missing_references_block_the_bill_with_every_reason() -> None:
    broken = bill(
        vendor_id="v9",
        vendor_name="Orphaned",
        currency_code="XYZ",
        line_items=[
            {
                "line_item_id": "L1",
                "account_id": "gone",
                "account_name": "Legacy Project Costs",
                "rate": 10,
                "item_total": 10,
                "tags": [{"tag_id": "T", "tag_name": "Cost Center", "tag_option_id": "opt-3"}],
            },
            {"line_item_id": "L2", "account_id": "acc-1", "rate": 5, "item_total": 5},
        ],
        total=15,
    )
    document = bill_to_invoice(broken, CONTEXT, index(legal_entity=None, legal_entity_problem="no entity"))
    assert document.rows == []
    codes = {p.code for p in document.problems}
    assert codes == {
        ErrorCode.UNMAPPED_SUPPLIER,
        ErrorCode.MISSING_LEGAL_ENTITY,
        ErrorCode.UNKNOWN_CURRENCY,
        ErrorCode.UNMAPPED_COST_CENTER,
        ErrorCode.UNMAPPED_GL_ACCOUNT,
    }
    subjects = {p.subject for p in document.problems if p.code == ErrorCode.UNMAPPED_COST_CENTER}
    assert "Technology \u2013 London" in subjects


def test_a_total_that_does_not_add_up_is_malformed() -> None:
    document = bill_to_invoice(bill(total=999), CONTEXT, index())
    assert [p.code for p in document.problems] == [ErrorCode.MALFORMED_RECORD]


def test_a_header_writes_no_invoice_state_and_no_purchase_order_on_a_non_po_invoice() -> None:
    header, _fx, line, tax = bill_to_invoice(bill(reference_number="PO-1"), CONTEXT, index()).rows
    assert header.values["u_invoice_type"] == "non_po_invoice"
    assert "u_purchase_order" not in header.values  # Zoho's reference number is no ServiceNow purchase order
    assert "u_invoice_state" not in header.values  # cancelling is the AP team's action in ServiceNow
    assert header.values["u_erp_number"] == "460"  # the bill id: what payments and the posting carry
    for row in (header, line, tax):  # the pre-flight names the mandatory columns zbsn skips from this list
        assert set(row.values) <= set(WRITTEN[row.table])


def test_payment_rows_link_to_the_invoices_they_pay() -> None:
    payment = ZohoVendorPayment.model_validate(
        {
            "payment_id": "P1",
            "vendor_id": "v1",
            "amount": 200,
            "currency_code": "EUR",
            "date": "2026-08-01",
            "payment_mode": "Check",
            "bills": [{"bill_id": "460", "amount_applied": 144}, {"bill_id": "461", "amount_applied": 56}],
        }
    )
    waiting = payment_to_details(payment, CONTEXT, index(), staged_bills={"460"})
    assert [p.code for p in waiting.problems] == [ErrorCode.INVOICE_NOT_STAGED]
    document = payment_to_details(payment, CONTEXT, index(), staged_bills={"460", "461"})
    # each names its invoice by the ERP number the invoice's header carries: the bill id (sn-ref §7.6)
    assert [r.values["u_erp_invoice_number"] for r in document.rows] == ["460", "461"]
    assert all(set(r.values) <= set(WRITTEN[r.table]) for r in document.rows)
    assert {r.values["u_payment_method"] for r in document.rows} == {"cheque"}
    assert [r.values["u_payment_amount"] for r in document.rows] == ["144.00", "56.00"]
    assert sum(Decimal(r.values["u_payment_amount"]) for r in document.rows) == Decimal(200)


def _line(**changes: Any) -> dict[str, Any]:
    line = dict(bill().line_items[0].model_dump(mode="json"))
    line.update(changes)
    return line


def test_an_amount_out_of_range_is_a_malformed_bill_not_a_crash() -> None:
    # found by the 1,500-example fuzz run: item_total 1e26 could not be quantized to cents in 28 digits,
    # and the InvalidOperation ended the whole run
    for huge in (1e26, "1e15", -(10**20)):
        with pytest.raises(ValidationError, match="out of range for an amount"):
            bill(line_items=[_line(item_total=huge)])
    assert bill(line_items=[_line(item_total="999999999999999.99")]).line_items[0].item_total is not None


def test_in_range_amounts_whose_product_overflows_fail_the_bill_with_a_reason() -> None:
    document = bill_to_invoice(
        bill(line_items=[_line(item_total="900000000000000", tax_percentage="900000000000000")], total=1),
        CONTEXT,
        index(),
    )
    assert not document.ok
    assert document.rows == []
    assert any(
        p.code is ErrorCode.MALFORMED_RECORD and p.message == "line 1: amounts out of range"
        for p in document.problems
    )


def test_a_blank_or_repeated_line_id_fails_the_whole_bill_before_anything_is_staged() -> None:
    # found by the bill fuzzer: a blank line_item_id staged the header and failed the line
    blank = bill_to_invoice(bill(line_items=[_line(line_item_id="")]), CONTEXT, index())
    twice = [_line(item_total=60), _line(item_total=60)]
    repeated = bill_to_invoice(bill(line_items=twice), CONTEXT, index())
    assert [p.message for p in blank.problems] == ["a line has no line_item_id"]
    assert [p.message for p in repeated.problems] == ["two lines share a line_item_id"]
    assert blank.rows == repeated.rows == []
