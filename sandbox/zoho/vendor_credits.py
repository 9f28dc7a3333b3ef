"""Vendor credits (debit notes) in the Zoho sandbox: `GET /vendorcredits` (list, filtered by
`last_modified_time`) and `GET /vendorcredits/{id}` (with `line_items` and `bills_credited`), scope
`ZohoBooks.debitnotes.READ` (zoho-ref §2: debitnotes is the vendor credits scope).

[I] The reference records no vendor credit payload: the list key `vendorcredits` and detail key
`vendor_credit` are those of Zoho's vendor-credits API as client libraries use it; the fields follow the
bill's where they mean the same (`vendor_credit_number` for the number, `bills_credited[]` items with
`bill_id`, `bill_number`, `vendor_credit_bill_id`, `date`, `amount`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from zbsn.sandbox.company import VendorCredit
from zbsn.sandbox.zoho import render
from zbsn.sandbox.zoho.state import BooksState, NotFound

if TYPE_CHECKING:
    from zbsn.sandbox.zoho.api import BooksApi, Call

SCOPE = "ZohoBooks.debitnotes.READ"
CENT = Decimal("0.01")


def _line_total(credit: VendorCredit) -> tuple[Decimal, Decimal]:
    net = sum(((line.quantity * line.rate).quantize(CENT) for line in credit.lines), Decimal(0))
    tax = sum(
        ((line.quantity * line.rate).quantize(CENT) * line.tax_percentage / 100).quantize(CENT)
        for line in credit.lines
    )
    return net, Decimal(tax)


def credit_summary(state: BooksState, credit: VendorCredit) -> dict[str, Any]:
    """A `GET /vendorcredits` list item."""
    net, tax = _line_total(credit)
    applied = sum((a.amount for a in credit.applications), Decimal(0))
    vendor = state.vendors.get(credit.vendor_id)
    return {
        "vendor_credit_id": credit.vendor_credit_id,
        "vendor_credit_number": credit.vendor_credit_number,
        "status": credit.status,
        "reference_number": credit.reference_number,
        "date": credit.date.isoformat(),
        "vendor_id": credit.vendor_id,
        "vendor_name": vendor.name if vendor else "",
        "currency_id": render.currency_id(credit.currency_code),
        "currency_code": credit.currency_code,
        "exchange_rate": render.num(credit.exchange_rate),
        "total": render.num(net + tax),
        "balance": render.num(net + tax - applied),
        "created_time": render.ts(credit.created_time, state),
        "last_modified_time": render.ts(credit.last_modified_time, state),
        "has_attachment": False,
    }


def credit_detail(state: BooksState, credit: VendorCredit) -> dict[str, Any]:
    """A `GET /vendorcredits/{id}` body's `vendor_credit`."""
    net, tax = _line_total(credit)
    lines = []
    for order, line in enumerate(credit.lines, start=1):
        amount = (line.quantity * line.rate).quantize(CENT)
        account = state.accounts.get(line.account_id)
        lines.append(
            {
                "line_item_id": line.line_item_id,
                "account_id": line.account_id,
                "account_name": account.name if account else "",
                "account_code": account.code if account else "",
                "description": line.description,
                "quantity": render.num(line.quantity),
                "rate": render.num(line.rate),
                "item_total": render.num(amount),
                "tax_id": line.tax_id or "",
                "tax_name": line.tax_name or "",
                "tax_percentage": render.num(line.tax_percentage),
                "tags": render.line_tags(state, line.cost_center_option_id),
                "location_id": line.location_id or "",
                "item_order": order,
            }
        )
    bills = []
    for application in credit.applications:
        bill = state.bills.get(application.bill_id)
        bills.append(
            {
                "vendor_credit_bill_id": application.application_id,
                "bill_id": application.bill_id,
                "bill_number": bill.bill_number if bill else "",
                "date": application.date.isoformat(),
                "amount": render.num(application.amount),
            }
        )
    return {
        **credit_summary(state, credit),
        "sub_total": render.num(net),
        "tax_total": render.num(tax),
        "is_inclusive_tax": False,
        "line_items": lines,
        "bills_credited": bills,
        "refunds": [],
        "notes": "",
    }


class VendorCreditsApi:
    """The vendor credit routes of one Books API."""

    def __init__(self, books: BooksApi) -> None:
        self.books = books
        self.state = books.state

    def routes(self, route: Callable[..., Route]) -> list[Route]:
        return [
            route("/vendorcredits", self.list_credits, SCOPE),
            route("/vendorcredits/{vendor_credit_id}", self.get_credit, SCOPE),
        ]

    def list_credits(self, call: Call) -> Response:
        from zbsn.sandbox.zoho.api import _page_args, _page_context, parse_zoho_time, zoho_json

        state = self.state
        page, per_page = _page_args(call)
        modified = call.param("last_modified_time")
        with state.lock:
            since = parse_zoho_time(modified, state.tz).replace(microsecond=0) if modified else None
            chosen = sorted(
                (c for c in state.vendor_credits.values() if since is None or c.last_modified_time >= since),
                key=lambda c: (c.created_time, c.vendor_credit_id),
            )
            window = chosen[(page - 1) * per_page : page * per_page + 1]
            rows = [credit_summary(state, c) for c in window[:per_page]]
        context = _page_context(
            page, per_page, len(window) > per_page, "Vendor Credits", "Status.All", "created_time", "A"
        )
        return zoho_json({"code": 0, "message": "success", "vendorcredits": rows, "page_context": context})

    def get_credit(self, call: Call) -> Response:
        from zbsn.sandbox.zoho.api import zoho_json

        with self.state.lock:
            credit = self.state.vendor_credits.get(call.request.path_params["vendor_credit_id"])
            if credit is None:
                raise NotFound("Vendor credit")
            body = credit_detail(self.state, credit)
        return zoho_json({"code": 0, "message": "success", "vendor_credit": body})


def touch(credit: VendorCredit, moment: dt.datetime) -> None:
    """Mark a credit modified (admin edits in tests)."""
    credit.last_modified_time = moment
