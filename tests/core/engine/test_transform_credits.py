"""A vendor credit to staging rows: the credit memo carries negative amounts (how APO recognises one), its
settlements positive amounts dated no earlier than the credit (`bills_credited[].date` may be the credited
bill's own date; see `transform_credits`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from zbsn.core.engine.columns import (
    INVOICE_LINE_TABLE,
    INVOICE_TABLE,
    INVOICE_TAX_LINE_TABLE,
    PAYMENT_DETAIL_TABLE,
)
from zbsn.core.engine.transform_credits import credit_to_memo
from zbsn.core.zoho.models import ZohoVendorCredit

from .test_transform import CONTEXT, index


def credit(application_date: str) -> ZohoVendorCredit:
    data: dict[str, Any] = {
        "vendor_credit_id": "VC1",
        "vendor_credit_number": "DN-1",
        "vendor_id": "v1",
        "vendor_name": "Berliner Beratung GmbH",
        "status": "closed",
        "date": "2026-07-20",
        "currency_code": "GBP",
        "total": 12.0,
        "line_items": [
            {"line_item_id": "L1", "account_id": "acc-1", "quantity": 1, "rate": 12, "item_total": 12,
             "tags": [{"tag_id": "T", "tag_name": "Cost Center", "tag_option_id": "opt-1",
                       "tag_option_name": "x"}]},
        ],
        "bills_credited": [
            {"vendor_credit_bill_id": "VCB1", "bill_id": "460", "bill_number": "B-1", "amount": 12.0,
             "date": application_date},
        ],
    }  # fmt: skip
    return ZohoVendorCredit.model_validate(data)


def settlement_date(application_date: str) -> str:
    memo = credit_to_memo(credit(application_date), CONTEXT, index(), staged_bills={"460"})
    assert memo.problems == []
    rows = [r for r in memo.rows if r.table == PAYMENT_DETAIL_TABLE]
    assert len(rows) == 1
    return str(rows[0].values["u_payment_date"])


def test_an_item_dated_before_the_credit_settles_on_the_credit_date() -> None:
    assert settlement_date("2026-05-02") == "2026-07-20"  # the bill's date: the credit did not exist yet


def test_an_item_dated_after_the_credit_keeps_its_date() -> None:
    assert settlement_date("2026-08-03") == "2026-08-03"


def test_the_credit_memo_carries_negative_amounts_and_its_settlement_a_positive_one() -> None:
    memo = credit_to_memo(credit("2026-07-21"), CONTEXT, index(), staged_bills={"460"})
    by_table: dict[str, list[dict[str, str]]] = {}
    for row in memo.rows:
        by_table.setdefault(row.table, []).append(row.values)
    header = by_table[INVOICE_TABLE][0]
    assert header["u_invoice_type"] == "credit_memo"
    assert Decimal(header["u_amount_invoiced"]) == Decimal("-12.00")
    assert Decimal(header["u_subtotal"]) == Decimal("-12.00")
    assert header["u_tax_amount"] == "0.00"  # zero stays zero, never -0.00
    (line,) = by_table[INVOICE_LINE_TABLE]
    assert Decimal(line["u_line_quantity"]) * Decimal(line["u_line_unit_price"]) == Decimal(
        line["u_line_amount_invoiced"]
    )
    assert Decimal(line["u_line_amount_invoiced"]) < 0
    assert all(Decimal(t["u_tax_amount"]) <= 0 for t in by_table.get(INVOICE_TAX_LINE_TABLE, []))
    (settlement,) = by_table[PAYMENT_DETAIL_TABLE]
    assert Decimal(settlement["u_payment_amount"]) == Decimal("12.00")
