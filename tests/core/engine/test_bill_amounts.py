"""Zoho's own amounts on the invoice: per-line taxes, sub_total/tax_total checks, adjustment and discount;
payment terms with overrides; the remit-to country as ISO 3166."""

from __future__ import annotations

import pytest

from zbsn.core.engine.payment_terms import dump_overrides, parse_overrides, servicenow_payment_term
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.remit_to import iso_country, remit_to_values
from zbsn.core.engine.transform import bill_to_invoice
from zbsn.core.zoho.models import ZohoAddress

from .test_transform import CONTEXT, bill, index


def _line(**changes: object) -> dict[str, object]:
    line: dict[str, object] = {
        "line_item_id": "L1",
        "account_id": "acc-1",
        "quantity": 1,
        "rate": 100,
        "item_total": 100,
        "tags": [{"tag_id": "T", "tag_name": "Cost Center", "tag_option_id": "opt-1"}],
    }
    line.update(changes)
    return line


def test_zohos_line_taxes_win_over_the_percentage_and_each_component_is_a_tax_row() -> None:
    group = [
        {"tax_id": "g1", "tax_name": "GST (5%)", "tax_amount": 5, "tax_percentage": 5},
        {"tax_id": "g2", "tax_name": "PST (7%)", "tax_amount": 7.01},
    ]
    line = _line(tax_id="g", tax_name="GST + PST", tax_percentage=12, line_item_taxes=group)
    document = bill_to_invoice(
        bill(line_items=[line], total=112.01, sub_total=100, tax_total=12.01), CONTEXT, index()
    )
    assert document.ok, document.problems
    header, _fx, row, gst, pst = document.rows  # a EUR bill: its FX rate row follows the header
    assert header.values["u_tax_amount"] == "12.01"  # Zoho's, not 12% of 100
    assert row.values["u_tax_amount"] == "12.01"
    assert (gst.values["u_tax_type"], gst.values["u_tax_amount"], gst.values["u_supplier_tax_rate"]) == (
        "GST (5%)",
        "5.00",
        "5",
    )
    assert (pst.values["u_tax_type"], pst.values["u_tax_amount"], pst.values["u_supplier_tax_rate"]) == (
        "PST (7%)",
        "7.01",
        "",
    )
    assert gst.source_ref != pst.source_ref


def test_an_adjustment_is_other_charges_and_a_discount_is_discounts_not_a_malformed_bill() -> None:
    adjusted = bill_to_invoice(
        bill(total=156.5, sub_total=120, tax_total=24, adjustment=12.5, adjustment_description="Freight"),
        CONTEXT,
        index(),
    )
    assert adjusted.ok, adjusted.problems
    header = adjusted.rows[0].values
    assert (header["u_other_charges"], header["u_discounts"], header["u_amount_invoiced"]) == (
        "12.50",
        "0.00",
        "156.50",
    )
    discounted = bill_to_invoice(bill(total=141.12, discount_total=2.88), CONTEXT, index())
    assert discounted.ok, discounted.problems
    assert discounted.rows[0].values["u_discounts"] == "2.88"
    assert discounted.rows[0].values["u_other_charges"] == "0.00"  # always sent


def test_figures_that_do_not_add_up_fail_the_bill_with_each_reason() -> None:
    document = bill_to_invoice(bill(total=151, sub_total=125, tax_total=24, adjustment=1), CONTEXT, index())
    messages = [p.message for p in document.problems]
    assert messages == [
        "the lines add up to 120.00 but Zoho's sub_total is 125.00",
        "total 151.00 does not equal lines 125.00 + tax 24.00 + adjustment 1.00",
    ]
    assert {p.code for p in document.problems} == {ErrorCode.MALFORMED_RECORD}
    assert document.rows == []
    negative = bill_to_invoice(bill(total=146, discount_total=-2), CONTEXT, index())
    assert "the discount -2.00 is negative" in [p.message for p in negative.problems]


def test_payment_terms_take_the_override_then_zohos_label_then_the_days() -> None:
    overrides = parse_overrides(dump_overrides({"Net 30": "Net 030", " ": "x"}))
    assert overrides == (("Net 30", "Net 030"),)
    assert servicenow_payment_term("net  30", 30, overrides) == "Net 030"
    assert servicenow_payment_term("Net 45", 45, overrides) == "Net 45"
    assert servicenow_payment_term("", 15, ()) == "Net 15"
    assert servicenow_payment_term(None, 0, ()) == "Due on Receipt"
    assert servicenow_payment_term(None, None, ()) is None
    header = bill_to_invoice(
        bill(total=144, payment_terms=30, payment_terms_label="Net 30"), CONTEXT, index()
    )
    assert header.rows[0].values["u_payment_terms"] == "Net 30"
    with pytest.raises(ValueError, match="JSON object"):
        parse_overrides('["Net 30"]')


def test_the_remit_to_country_is_iso_3166() -> None:
    assert iso_country("gb", "United Kingdom") == "GB"
    assert iso_country("", "U.K") == "GB"
    assert iso_country(None, "United States") == "US"
    assert iso_country(None, "Atlantis") == ""
    values = remit_to_values(
        ZohoAddress(
            address="1 Main St", street2="Suite 2", city="Austin", state="TX", zip="78701", country="USA"
        )
    )
    assert values == {
        "u_remit_to_street": "1 Main St, Suite 2",
        "u_remit_to_city": "Austin",
        "u_remit_to_state_or_province": "TX",
        "u_remit_to_zip_or_postal_code": "78701",
        "u_remit_to_country": "US",
    }
    assert set(remit_to_values(None).values()) == {""}
