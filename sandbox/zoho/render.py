"""Zoho-shaped JSON for the sandbox's records (zoho-ref §4): string ids, `""` for empties, numbers for money,
timestamps with a colon-less offset in the org time zone, `*_formatted` display strings on lists.

(Over 400 lines: one renderer per Zoho record kind, list and detail shapes side by side so they stay
consistent.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from zbsn.sandbox.company import Bill, BillLine, CostCenter, LedgerAccount, Office, Vendor, VendorPayment
from zbsn.sandbox.company_generator import (
    DELETED_ACCOUNT_CODE,
    DELETED_ACCOUNT_NAME,
    MISSING_VENDOR_NAME,
    line_taxes,
)
from zbsn.sandbox.documents import pdf_bytes
from zbsn.sandbox.zoho.state import BooksState

CURRENCY_IDS = {"GBP": "460237000008888101", "EUR": "460237000008888102", "USD": "460237000008888103"}
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
USER_NAME = "Sandbox Admin"
USER_ID = "460237000008888201"
SUPPLIER_CODE_FIELD = "cf_supplier_code"  # the vendor's ERP supplier code rides in a custom field


def num(value: Decimal) -> int | float:
    """Money as a JSON number (`500`, `149.97`), like Zoho."""
    return int(value) if value == value.to_integral_value() else float(value)


def ts(moment: dt.datetime, state: BooksState) -> str:
    """`2026-06-09T13:17:42-0400`: the org time zone, no colon in the offset."""
    return moment.astimezone(state.tz).strftime("%Y-%m-%dT%H:%M:%S%z")


def ts_formatted(moment: dt.datetime, state: BooksState) -> str:
    """`09 Jun 2026 01:17 PM`."""
    return moment.astimezone(state.tz).strftime("%d %b %Y %I:%M %p")


def date_formatted(day: dt.date) -> str:
    """`09/06/2026` (the org's dd/MM/yyyy date format)."""
    return day.strftime("%d/%m/%Y")


def money_formatted(value: Decimal, currency: str) -> str:
    """`£1,234.50`."""
    return f"{CURRENCY_SYMBOLS.get(currency, '')}{value:,.2f}"


def currency_id(code: str) -> str:
    """A stable id per ISO currency code."""
    return CURRENCY_IDS.get(code, "460237000008888199")


def organization(state: BooksState) -> dict[str, Any]:
    """One entry of `GET /organizations` (shape of the recorded live response)."""
    org = state.company.organization
    return {
        "organization_id": org.organization_id,
        "name": org.name,
        "contact_name": USER_NAME,
        "email": "finance@northwind-advisory.example",
        "is_default_org": True,
        "language_code": "en",
        "fiscal_year_start_month": "3",
        "account_created_date": "2024-04-01",
        "time_zone": org.time_zone,
        "is_dst_active": False,
        "date_format": "dd/MM/yyyy",
        "field_separator": "/",
        "currency_id": currency_id(org.currency_code),
        "currency_code": org.currency_code,
        "currency_symbol": CURRENCY_SYMBOLS.get(org.currency_code, ""),
        "currency_format": "###,##0.00",
        "price_precision": 2,
        "plan_type": 3,
        "plan_name": org.plan_name,
        "plan_period": "Month",
        "country_code": "GB",
        "country_name": "U.K",
        "portal_name": "northwindadvisory",
        "org_settings": {"is_org_active": True},
    }


def _vendor_name(state: BooksState, vendor_id: str) -> str:
    vendor = state.vendors.get(vendor_id)
    return vendor.name if vendor else MISSING_VENDOR_NAME


def _location_name(state: BooksState, location_id: str | None) -> str:
    office = state.offices.get(location_id or "")
    return office.name if office else ""


def _due_days(bill: Bill, balance: Decimal, today: dt.date) -> str:
    if bill.status in ("paid", "void") or balance <= 0:
        return ""
    delta = (bill.due_date - today).days
    if delta > 0:
        return f"Due in {delta} days"
    return "Due Today" if delta == 0 else f"Overdue by {-delta} days"


def bill_summary(state: BooksState, bill: Bill) -> dict[str, Any]:
    """A `GET /bills` list item: no line_items (zoho-ref §4.2)."""
    total = state.totals[bill.bill_id]
    balance = state.balance(bill.bill_id)
    today = state.clock.now().astimezone(state.tz).date()
    return {
        "bill_id": bill.bill_id,
        "vendor_id": bill.vendor_id,
        "vendor_name": _vendor_name(state, bill.vendor_id),
        "status": bill.status,
        "color_code": "",
        "current_sub_status_id": "",
        "current_sub_status": bill.status,
        "bill_number": bill.bill_number,
        "reference_number": bill.reference_number,
        "date": bill.date.isoformat(),
        "date_formatted": date_formatted(bill.date),
        "due_date": bill.due_date.isoformat(),
        "due_date_formatted": date_formatted(bill.due_date),
        "due_days": _due_days(bill, balance, today),
        "currency_id": currency_id(bill.currency_code),
        "currency_code": bill.currency_code,
        "price_precision": 2,
        "exchange_rate": num(bill.exchange_rate),
        "total": num(total),
        "total_formatted": money_formatted(total, bill.currency_code),
        "tds_total": 0,
        "balance": num(balance),
        "balance_formatted": money_formatted(balance, bill.currency_code),
        "unprocessed_payment_amount": 0,
        "location_id": bill.location_id or "",
        "location_name": _location_name(state, bill.location_id),
        "created_time": ts(bill.created_time, state),
        "last_modified_time": ts(bill.last_modified_time, state),
        "created_time_formatted": ts_formatted(bill.created_time, state),
        "last_modified_time_formatted": ts_formatted(bill.last_modified_time, state),
        "created_by": USER_NAME,
        "last_modified_by": USER_NAME,
        "is_opening_balance": bill.bill_id,  # recorded live quirk: the bill_id in this field
        "attachment_name": bill.documents[0].file_name if bill.documents else "",
        "has_attachment": bool(bill.documents),
        "tags": [],
        "is_uber_bill": False,
        "is_tally_bill": False,
        "entity_type": "bill",
        "client_viewed_time": "",
        "is_viewed_by_client": False,
        "is_bill_reconciliation_violated": False,
        "balance_due": num(balance),
    }


def _account_fields(state: BooksState, account_id: str) -> tuple[str, str]:
    account = state.accounts.get(account_id)
    if account is None:  # the "deleted_account" defect: the line keeps the old name and code
        return DELETED_ACCOUNT_NAME, DELETED_ACCOUNT_CODE
    return account.name, account.code


def documents(bill: Bill) -> list[dict[str, Any]]:
    """A bill's `documents[]` (zoho-ref §4.2 names the array; [I] the item fields follow Zoho's attachment
    responses: document_id, file_name, file_type, file_size and its formatted twin, attachment_order)."""
    rendered = []
    for order, document in enumerate(bill.documents, start=1):
        size = len(pdf_bytes(bill, document))
        rendered.append(
            {
                "document_id": document.document_id,
                "file_name": document.file_name,
                "file_type": "pdf",
                "file_size": size,
                "file_size_formatted": f"{size / 1024:.1f} KB",
                "attachment_order": order,
                "can_send_in_mail": True,
            }
        )
    return rendered


def line_tags(state: BooksState, option_id: str | None) -> list[dict[str, Any]]:
    """`line_items[].tags` in the response shape of zoho-ref §4.2."""
    cost_center = state.cost_centers.get(option_id or "")
    if cost_center is None:
        return []
    return [
        {
            "is_tag_mandatory": False,
            "tag_id": state.company.cost_center_tag_id,
            "tag_name": state.company.cost_center_tag_name,
            "tag_option_id": cost_center.tag_option_id,
            "tag_option_name": cost_center.name,
        }
    ]


def _line(state: BooksState, bill: Bill, line: BillLine, order: int, malformed: bool) -> dict[str, Any]:
    amount = (line.quantity * line.rate).quantize(Decimal("0.01"))
    account_name, account_code = _account_fields(state, line.account_id)
    taxes = line_taxes(line)
    tax = sum((t[3] for t in taxes), Decimal(0))
    rate: Any = f"#ERR{line.rate}" if malformed else num(line.rate)
    return {
        "purchaseorder_id": "",
        "purchaseorder_item_id": "",
        "line_item_id": line.line_item_id,
        "item_id": "",
        "line_item_category": "line_item",
        "name": "",
        "sku": "",
        "account_id": line.account_id,
        "account_name": account_name,
        "account_code": account_code,
        "description": line.description,
        "bcy_rate": num((line.rate * bill.exchange_rate).quantize(Decimal("0.01"))),
        "rate": rate,
        "pricebook_id": "",
        "header_id": "",
        "header_name": "",
        "tags": line_tags(state, line.cost_center_option_id),
        "quantity": num(line.quantity),
        "quantity_received": 0,
        "discount": 0,
        "discounts": [],
        "markup_percent": 0,
        "tax_id": line.tax_id or "",
        "tax_name": line.tax_name or "",
        "tax_type": "tax",
        "tax_percentage": num(line.tax_percentage),
        # [INF] one entry per component of a tax group (zoho-ref §4.2 records the key, not a group's shape)
        "line_item_taxes": [
            {"tax_id": tax_id, "tax_name": name, "tax_percentage": num(pct), "tax_amount": num(amount)}
            for tax_id, name, pct, amount in taxes
        ],
        "item_total": num(amount),
        "item_total_inclusive_of_tax": num(amount + tax),
        "item_order": order,
        "unit": "",
        "item_type": "",
        "is_billable": False,
        "customer_id": "",
        "customer_name": "",
        "project_id": "",
        "project_name": "",
        "invoice_id": "",
        "invoice_number": "",
        "location_id": line.location_id or "",
        "location_name": _location_name(state, line.location_id),
        "item_custom_fields": [],
        "receive_line_items": [],
    }


def bill_detail(
    state: BooksState, bill: Bill, *, malformed: bool = False, broken_account_line: int | None = None
) -> dict[str, Any]:
    """A `GET /bills/{id}` body's `bill`: header, line_items with account and tags, taxes, payments.

    `malformed` (or the bill's "malformed_amount" defect) renders the first line's rate as a non-numeric
    string; `broken_account_line` points that line at an account that is not in the chart (fault injection).
    """
    summary = bill_summary(state, bill)
    malformed = malformed or bill.defect == "malformed_amount"
    lines = [_line(state, bill, line, i + 1, malformed and i == 0) for i, line in enumerate(bill.lines)]
    if broken_account_line is not None and lines:
        target = lines[broken_account_line % len(lines)]
        target.update(
            account_id="460237000009999009",
            account_name=DELETED_ACCOUNT_NAME,
            account_code=DELETED_ACCOUNT_CODE,
        )
    taxes: dict[str, dict[str, Any]] = {}
    sub_total = Decimal(0)
    tax_total = Decimal(0)
    for line in bill.lines:
        amount = (line.quantity * line.rate).quantize(Decimal("0.01"))
        sub_total += amount
        for tax_id, name, _pct, tax in line_taxes(line):
            tax_total += tax
            entry = taxes.setdefault(
                tax_id or "", {"tax_id": tax_id or "", "tax_name": name or "", "tax_amount": Decimal(0)}
            )
            entry["tax_amount"] += tax
    payments = []
    paid = Decimal(0)
    for payment, allocation in state.payments_by_bill.get(bill.bill_id, []):
        paid += allocation.amount_applied
        payments.append(payment_on_bill(state, payment, bill.bill_id, allocation.amount_applied))
    ap = next((a for a in state.accounts.values() if a.account_type == "accounts_payable"), None)
    detail = {
        key: summary[key]
        for key in (
            "bill_id",
            "vendor_id",
            "vendor_name",
            "status",
            "current_sub_status",
            "bill_number",
            "date",
            "due_date",
            "reference_number",
            "currency_id",
            "currency_code",
            "price_precision",
            "exchange_rate",
            "location_id",
            "location_name",
            "total",
            "balance",
            "created_time",
            "last_modified_time",
        )
    }
    detail.update(
        {
            "source": "Api",
            "unused_credits_payable_amount": 0,
            "payment_terms": bill.payment_terms if bill.payment_terms is not None else "",
            "payment_terms_label": bill.payment_terms_label,
            "recurring_bill_id": "",
            "due_in_days": "",
            "currency_symbol": CURRENCY_SYMBOLS.get(bill.currency_code, ""),
            "custom_fields": [],
            "custom_field_hash": {},
            "is_item_level_tax_calc": False,
            "is_inclusive_tax": False,
            "tax_rounding": "entity_level",
            "line_items": lines,
            "adjustment": num(bill.adjustment),
            "adjustment_description": bill.adjustment_description,
            # [INF] an entity-level discount amount taken after tax: total = sub_total + tax_total
            # + adjustment - discount_total (zoho-ref §4.2 lists the `discount*` fields, not their algebra)
            "discount": num(bill.discount),
            "discount_type": "entity_level",
            "discount_amount": num(bill.discount),
            "discount_applied_on_amount": num(sub_total + tax_total) if bill.discount else 0,
            "is_discount_before_tax": False,
            "discount_account_id": "",
            "discount_setting": "",
            "sub_total": num(sub_total),
            "tax_total": num(tax_total),
            "discount_total": num(bill.discount),
            "payment_made": num(paid),
            "vendor_credits_applied": 0,
            "purchaseorders": [],
            "purchaseorder_ids": [],
            "documents": documents(bill),
            "taxes": [{**t, "tax_amount": num(t["tax_amount"])} for t in taxes.values()],
            "billing_address_id": "",
            "billing_address": vendor_address(state, bill.vendor_id),
            "payments": payments,
            "vendor_credits": [],
            "created_by_id": USER_ID,
            "last_modified_id": USER_ID,
            "notes": "",
            "terms": "",
            "template_id": "460237000008888301",
            "template_name": "Standard Template",
            "approvers_list": [],
            "account_id": ap.account_id if ap else "",
            "account_name": ap.name if ap else "",
            "tags": [],
        }
    )
    return detail


def payment_on_bill(
    state: BooksState, payment: VendorPayment, bill_id: str, amount: Decimal
) -> dict[str, Any]:
    """An entry of a bill detail's `payments[]`."""
    through = state.accounts.get(payment.paid_through_account_id)
    return {
        "payment_id": payment.payment_id,
        "bill_payment_id": state.allocation_ids.get((payment.payment_id, bill_id), ""),
        "payment_mode": payment.payment_mode,
        "payment_number": payment.payment_number,
        "date": payment.date.isoformat(),
        "amount": num(amount),
        "exchange_rate": 1,
        "reference_number": payment.reference_number,
        "paid_through_account_id": payment.paid_through_account_id,
        "paid_through_account_name": through.name if through else "",
    }


def contact_summary(state: BooksState, vendor: Vendor) -> dict[str, Any]:
    """A `GET /contacts` list item for a vendor."""
    owed = state.vendor_outstanding().get(vendor.contact_id, Decimal(0))
    created = state.company.bills[0].created_time if state.company.bills else state.clock.now()
    return {
        "contact_id": vendor.contact_id,
        "contact_name": vendor.name,
        "customer_name": vendor.name,
        "vendor_name": vendor.name,
        "company_name": vendor.name,
        "website": "",
        "language_code": "",
        "contact_type": "vendor",
        "contact_type_formatted": "Vendor",
        "status": "active",
        "customer_sub_type": "business",
        "source": "api",
        "is_linked_with_zohocrm": False,
        # a vendor new to ServiceNow is new in Zoho too: no terms set yet (company_generator, its bills)
        "payment_terms": vendor.payment_terms if vendor.exists_in_servicenow else "",
        "payment_terms_id": "460237000008888401" if vendor.exists_in_servicenow else "",
        "payment_terms_label": vendor.payment_terms_label if vendor.exists_in_servicenow else "",
        "currency_id": currency_id(vendor.currency_code),
        "currency_code": vendor.currency_code,
        "outstanding_receivable_amount": 0,
        "outstanding_receivable_amount_bcy": 0,
        "outstanding_payable_amount": num(owed),
        "outstanding_payable_amount_bcy": num(owed),
        "unused_credits_receivable_amount": 0,
        "unused_credits_receivable_amount_bcy": 0,
        "unused_credits_payable_amount": 0,
        "unused_credits_payable_amount_bcy": 0,
        "first_name": "",
        "last_name": "",
        "email": vendor.email,
        "phone": "",
        "mobile": "",
        "portal_status": "disabled",
        "track_1099": False,
        "created_time": ts(created - dt.timedelta(days=90), state),
        "last_modified_time": ts(created - dt.timedelta(days=90), state),
        "custom_fields": [
            {
                "customfield_id": "460237000008888501",
                "api_name": SUPPLIER_CODE_FIELD,
                "label": "Supplier Code",
                "value": vendor.supplier_code,
                "data_type": "string",
            }
        ],
        "custom_field_hash": {SUPPLIER_CODE_FIELD: vendor.supplier_code},
        "tags": [],
        "ach_supported": False,
        "has_attachment": False,
    }


def vendor_address(state: BooksState, vendor_id: str) -> dict[str, Any]:
    """The vendor's billing address (zoho-ref §4.3 fields); `{}` for a vendor that is not a contact."""
    vendor = state.vendors.get(vendor_id)
    if vendor is None:
        return {}
    return {
        "address_id": vendor.contact_id[:-3] + "777",
        "attention": "Accounts",
        "address": vendor.street or "1 High Street",
        "street2": "",
        "city": vendor.city,
        "state": vendor.state,
        "state_code": vendor.state if vendor.country_code == "US" else "",
        "zip": vendor.zip,
        "country": vendor.country,
        "country_code": vendor.country_code,
        "phone": "",
        "fax": "",
    }


def contact_detail(state: BooksState, vendor: Vendor) -> dict[str, Any]:
    """A `GET /contacts/{id}` body's `contact`: adds persons, addresses and tax ids."""
    detail = contact_summary(state, vendor)
    address = vendor_address(state, vendor.contact_id)
    detail.update(
        {
            "contact_persons": [
                {
                    "contact_person_id": vendor.contact_id[:-3] + "888",
                    "salutation": "",
                    "first_name": "Accounts",
                    "last_name": "Receivable",
                    "email": vendor.email,
                    "phone": "",
                    "mobile": "",
                    "designation": "",
                    "department": "Finance",
                    "is_primary_contact": True,
                }
            ],
            "billing_address": address,
            "shipping_address": dict(address),
            "addresses": [],
            "bank_accounts": [],
            "default_templates": {},
            "opening_balances": [],
            "tax_id_type": "",
            "tax_id_value": vendor.tax_id,
            "tax_reg_label": "VAT Number" if vendor.tax_id[:2].isalpha() else "EIN",
            "tax_reg_no": vendor.tax_id,
            "vat_reg_no": vendor.tax_id if vendor.tax_id[:2].isalpha() else "",
            "is_bcy_only_contact": vendor.currency_code == state.company.organization.currency_code,
            "notes": "",
            "created_by_name": USER_NAME,
        }
    )
    return detail


def payment_summary(state: BooksState, payment: VendorPayment) -> dict[str, Any]:
    """A `GET /vendorpayments` list item: `bill_numbers` display string, no structured bills[]."""
    applied = sum((a.amount_applied for a in payment.allocations), Decimal(0))
    through = state.accounts.get(payment.paid_through_account_id)
    numbers = ",".join(
        state.bills[a.bill_id].bill_number for a in payment.allocations if a.bill_id in state.bills
    )
    return {
        "payment_id": payment.payment_id,
        "vendor_id": payment.vendor_id,
        "currency_id": currency_id(payment.currency_code),
        "status": "paid",
        "vendor_name": _vendor_name(state, payment.vendor_id),
        "bill_numbers": numbers,
        "payment_mode": payment.payment_mode,
        "payment_number": payment.payment_number,
        "description": "",
        "date": payment.date.isoformat(),
        "date_formatted": date_formatted(payment.date),
        "reference_number": payment.reference_number,
        "exchange_rate": 1,
        "amount": num(payment.amount),
        "amount_formatted": money_formatted(payment.amount, payment.currency_code),
        "bcy_amount": num(payment.amount),
        "paid_through_account_id": payment.paid_through_account_id,
        "paid_through_account_name": through.name if through else "",
        "balance": num(payment.amount - applied),
        "currency_code": payment.currency_code,
        "bcy_balance": num(payment.amount - applied),
        "created_time": ts(payment.created_time, state),
        "last_modified_time": ts(payment.last_modified_time, state),
        "created_time_formatted": ts_formatted(payment.created_time, state),
        "last_modified_time_formatted": ts_formatted(payment.last_modified_time, state),
        "is_paid_via_print_check": False,
        "has_attachment": False,
        "tags": [],
        "is_ach_payment": False,
        "ach_payment_status": "",
        "ach_gw_transaction_id": "",
        "gw_reference_number": "",
        "check_details": {"check_id": "", "check_status": "", "check_number": "", "memo": ""},
    }


def payment_detail(state: BooksState, payment: VendorPayment, *, malformed: bool = False) -> dict[str, Any]:
    """A `GET /vendorpayments/{id}` body's `vendorpayment`, with `bills[]` allocations."""
    detail = payment_summary(state, payment)
    ap = next((a for a in state.accounts.values() if a.account_type == "accounts_payable"), None)
    bills = []
    for allocation in payment.allocations:
        bill = state.bills.get(allocation.bill_id)
        bills.append(
            {
                "bill_number": bill.bill_number if bill else "",
                "price_precision": 2,
                "bill_payment_id": state.allocation_ids.get((payment.payment_id, allocation.bill_id), ""),
                "bill_id": allocation.bill_id,
                "is_opening_balance": False,
                "total": num(state.totals.get(allocation.bill_id, Decimal(0))),
                "balance": num(state.balance(allocation.bill_id)) if bill else 0,
                "unprocessed_payment_amount": 0,
                "amount_applied": num(allocation.amount_applied),
                "apply_date": "",
                "tax_amount_withheld": 0,
                "date": bill.date.isoformat() if bill else "",
                "due_date": bill.due_date.isoformat() if bill else "",
            }
        )
    if malformed:
        detail["amount"] = f"#ERR{payment.amount}"
    detail.update(
        {
            "bills": bills,
            "payment_number_prefix": "",
            "payment_number_suffix": payment.payment_number,
            "tax_amount_withheld": 0,
            "bank_charges": 0,
            "paid_through_account_type": "bank",
            "offset_account_id": ap.account_id if ap else "",
            "offset_account_name": ap.name if ap else "",
            "billing_address": vendor_address(state, payment.vendor_id),
            "vendorpayment_refunds": [],
            "comments": [],
            "custom_fields": [],
            "custom_field_hash": {},
            "location_id": "",
            "location_name": "",
            "created_by_name": USER_NAME,
            "approvers_list": [],
        }
    )
    return detail


def account(state: BooksState, entry: LedgerAccount) -> dict[str, Any]:
    """A `GET /chartofaccounts` item."""
    created = ts(state.clock.now().replace(year=2024, month=4, day=1), state)
    return {
        "account_id": entry.account_id,
        "account_name": entry.name,
        "account_code": entry.code,
        "account_type": entry.account_type,
        "description": "",
        "is_user_created": entry.account_type == "expense",
        "is_system_account": entry.account_type != "expense",
        "is_active": True,
        "parent_account_id": "",
        "parent_account_name": "",
        "depth": 0,
        "has_attachment": False,
        "is_child_present": False,
        "child_count": "",
        "documents": [],
        "created_time": created,
        "is_standalone_account": False,
        "last_modified_time": created,
        "currency_code": state.company.organization.currency_code,
    }


def tag_option(option: CostCenter) -> dict[str, Any]:
    """A reporting-tag option; `description` carries the ServiceNow cost-center number (demo convention)."""
    return {
        "tag_option_id": option.tag_option_id,
        "tag_option_name": option.name,
        "description": option.account_number,
        "is_active": True,
        "parent_tag_option_id": "",
        "location_id": option.office_location_id,
    }


def reporting_tag(state: BooksState, *, with_options: bool) -> dict[str, Any]:
    """The "Cost Center" reporting tag (with its options when asked)."""
    tag: dict[str, Any] = {
        "tag_id": state.company.cost_center_tag_id,
        "tag_name": state.company.cost_center_tag_name,
        "description": "Practice line per office",
        "is_active": True,
        "is_mandatory": False,
        "tag_type": "option",
    }
    if with_options:
        tag["tag_options"] = [tag_option(o) for o in state.cost_centers.values()]
    return tag


def location(state: BooksState, office: Office, primary: bool) -> dict[str, Any]:
    """A `GET /locations` item."""
    return {
        "location_id": office.location_id,
        "location_name": office.name,
        "type": "general",
        "parent_location_id": "",
        "is_primary": primary,
        "status": "active",
        "email": f"{office.city.lower()}@northwind-advisory.example",
        "phone": "",
        "address": {
            "street_address1": "1 Northwind House",
            "street_address2": "",
            "city": office.city,
            "state": "",
            "state_code": "",
            "country": office.country,
            "attention": "",
        },
        "tax_settings_id": "",
        "associated_series_ids": [],
        "auto_number_generation_id": "",
        "is_all_users_selected": True,
        "associated_users": [],
    }
