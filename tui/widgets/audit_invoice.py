"""A staged bill's (or credit's) invoice as the audit log recorded it: the rows sent to ServiceNow (the mapped
payload: header, lines, tax lines, settlements) read back into an `InvoiceView`, with what only the Zoho
record says (account and cost-center names, the terms label, the vendor's address, the adjustment's label)
and the documents attached to the invoice (`AuditDetail.documents`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from zbsn.core.audit_documents import DocumentShown
from zbsn.core.audit_query import AuditDetail
from zbsn.core.engine import columns
from zbsn.core.engine.remit_to import remit_to_values
from zbsn.core.zoho.models import ZohoAddress
from zbsn.tui.widgets.invoice_view import (
    DocumentView,
    InvoiceLineView,
    InvoiceView,
    TaxLineView,
    address_line,
    terms_label,
)

INVOICE_KINDS = ("bill", "vendor_credit")


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _rows(payload: Any, table: str) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        return []
    rows = payload.get("rows")
    if not isinstance(rows, list):
        return []
    return [
        r["values"]
        for r in rows
        if isinstance(r, dict) and r.get("table") == table and isinstance(r.get("values"), dict)
    ]


def _zoho_lines(source: Any) -> dict[str, dict[str, Any]]:
    """The Zoho record's lines by id (for the names ServiceNow's numbers stand for)."""
    lines = source.get("line_items") if isinstance(source, dict) else None
    if not isinstance(lines, list):
        return {}
    return {str(line.get("line_item_id")): line for line in lines if isinstance(line, dict)}


def _cost_center_name(line: dict[str, Any]) -> str | None:
    for tag in line.get("tags") or []:
        if isinstance(tag, dict) and tag.get("tag_option_name"):
            return str(tag["tag_option_name"])
    return line.get("location_name") or None


def _named(number: str, name: str | None) -> str | None:
    if not number:
        return None
    return f"{number} {name}".strip() if name else number


def _document(shown: DocumentShown) -> DocumentView:
    if shown.status == "staged":
        note = "attached to the invoice"
    else:
        note = f"not attached: {shown.error_message or shown.status}"
    return DocumentView(
        shown.file_name or shown.document_id, shown.size_bytes, note, shown.status == "staged"
    )


def _remit_to(source: dict[str, Any]) -> str | None:
    address = source.get("billing_address")
    if not isinstance(address, dict):
        return None
    try:
        values = remit_to_values(ZohoAddress.model_validate(address))
    except ValueError:
        return None
    return address_line(values)


def invoice_from_audit(detail: AuditDetail) -> InvoiceView | None:
    """The invoice the record staged (None for other kinds, or when no invoice rows were recorded)."""
    row = detail.row
    if row.kind not in INVOICE_KINDS:
        return None
    headers = _rows(detail.mapped_payload, columns.INVOICE_TABLE)
    if not headers:
        return None
    header = headers[0]
    source = detail.source_payload if isinstance(detail.source_payload, dict) else {}
    zoho_lines = _zoho_lines(source)
    taxes: dict[str, list[TaxLineView]] = {}
    for tax in _rows(detail.mapped_payload, columns.INVOICE_TAX_LINE_TABLE):
        amount = _amount(tax.get("u_tax_amount")) or Decimal(0)
        view = TaxLineView(
            str(tax.get("u_tax_type") or "Tax"), _amount(tax.get("u_supplier_tax_rate")), amount
        )
        taxes.setdefault(str(tax.get("u_erp_line_number")), []).append(view)
    lines = []
    for values in _rows(detail.mapped_payload, columns.INVOICE_LINE_TABLE):
        line_id = str(values.get("u_erp_line_number"))
        zoho = zoho_lines.get(line_id, {})
        lines.append(
            InvoiceLineView(
                description=str(values.get("u_line_description") or ""),
                amount=_amount(values.get("u_subtotal")),
                tax=_amount(values.get("u_tax_amount")),
                cost_center=_named(str(values.get("u_cost_center") or ""), _cost_center_name(zoho)),
                gl_account=_named(str(values.get("u_gl_account") or ""), zoho.get("account_name")),
                taxes=tuple(taxes.get(line_id, [])),
                cost_center_missing=not values.get("u_cost_center"),
                gl_missing=not values.get("u_gl_account"),
            )
        )
    credit = row.kind == "vendor_credit"
    credited = source.get("bills_credited") if credit else None
    numbers = {
        columns.erp_invoice_number(str(b.get("bill_id"))): str(b.get("bill_number") or b.get("bill_id"))
        for b in (credited if isinstance(credited, list) else [])
        if isinstance(b, dict)
    }
    settlements = tuple(
        (numbers.get(str(s.get("u_erp_invoice_number")), str(s.get("u_erp_invoice_number") or "—")), paid)
        for s in _rows(detail.mapped_payload, columns.PAYMENT_DETAIL_TABLE)
        if (paid := _amount(s.get("u_payment_amount"))) is not None
    )
    fx = _rows(detail.mapped_payload, columns.FX_RATE_TABLE)
    return InvoiceView(
        number=str(header.get("u_supplier_invoice_number") or row.zoho_number or row.zoho_id),
        supplier=row.vendor_name or "",
        supplier_code=str(header.get("u_supplier") or "") or None,
        date=header.get("u_invoice_date") or row.doc_date,
        due_date=header.get("u_due_date") or None,
        currency=header.get("u_currency") or row.currency,
        exchange_rate=_amount(next(iter(fx), {}).get("u_exchange_rate")),  # the FX rate row it staged
        payment_terms=terms_label(source.get("payment_terms_label"), header.get("u_payment_terms") or None),
        remit_to=_remit_to(source),
        reference=source.get("reference_number") or None,
        lines=tuple(lines),
        subtotal=_amount(header.get("u_subtotal")),
        tax=_amount(header.get("u_tax_amount")),
        adjustment=_amount(header.get("u_other_charges")),
        adjustment_label=source.get("adjustment_description") or None,
        discount=_amount(header.get("u_discounts")),
        total=_amount(header.get("u_amount_invoiced")) or row.amount,
        documents=tuple(_document(d) for d in detail.documents),
        settlements=settlements,
        kind="credit memo" if credit else "invoice",
        business_owner=str(header.get("u_business_owner") or "") or None,
    )
