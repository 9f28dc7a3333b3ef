"""The engine's preview and mapping results (`PreviewReport`, `Mappings`) as the Preview screen's rows.

Read through the engine's own types, so a renamed field is a type error and a failing test, never a blank.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from zbsn.core.engine.attachment_preview import AttachmentPreview
from zbsn.core.engine.bill_amounts import TaxPart
from zbsn.core.engine.credit_preview import CreditPreview
from zbsn.core.engine.preview import PreviewItem, PreviewReport
from zbsn.core.engine.service import MappingRow, Mappings
from zbsn.core.engine.transform import InvoiceDocument, LinePreview
from zbsn.tui.widgets.invoice_view import (
    DocumentView,
    InvoiceLineView,
    InvoiceView,
    TaxLineView,
    address_line,
    terms_label,
)

# The bill list's groups, in the order the operator works through them (the outcome of each row).
GROUPS: tuple[tuple[str, str], ...] = (
    ("unreadable", "Unreadable in Zoho"),
    ("blocked", "Blocked: something is missing"),
    ("ready", "Ready to stage"),
    ("waiting", "Waiting for approval in Zoho"),
    ("cancel", "Voided in Zoho: to cancel"),
    ("credit", "Vendor credits: credit memos"),
)


@dataclass(frozen=True)
class MappingLine:
    kind: str  # cost_center | gl_account | supplier
    zoho_key: str
    zoho_name: str
    sn_value: str | None
    sn_name: str | None
    status: str  # matched | missing | staged
    origin: str
    blocked_bills: int

    @property
    def missing(self) -> bool:
        return self.status == "missing"


@dataclass(frozen=True)
class BillLineItem:
    description: str
    amount: Decimal | None
    cost_center: str | None
    gl_account: str | None
    missing: list[str]


@dataclass(frozen=True)
class BillPreview:
    key: str
    number: str
    vendor: str
    date: str
    total: Decimal | None
    currency: str | None
    missing: list[str]
    lines: list[BillLineItem] = field(default_factory=list)
    # ready | blocked | cancel | unreadable | waiting (engine's PreviewItem.outcome); "credit": a credit memo
    outcome: str | None = None
    invoice: InvoiceView | None = None  # the invoice (or credit memo) it would become, when it was read
    credit_outcome: str | None = None  # a credit memo's own outcome: ready | blocked | skip | unreadable

    @property
    def ready(self) -> bool:
        if self.outcome == "credit":
            return self.credit_outcome in ("ready", "skip")
        return self.outcome == "ready" if self.outcome else not self.missing

    @property
    def group(self) -> str:
        """The list group this row belongs to (`GROUPS`)."""
        if self.outcome in dict(GROUPS):
            return str(self.outcome)
        return "ready" if self.ready else "blocked"


def mapping_lines(kind: str, rows: Iterable[MappingRow]) -> list[MappingLine]:
    """One kind's mapping rows, missing first, then by how many bills each blocks."""
    lines = [
        MappingLine(
            kind=kind,
            zoho_key=row.zoho_key,
            zoho_name=row.zoho_name,
            sn_value=row.sn_value or row.sn_sys_id,
            sn_name=row.sn_name,
            status=row.status,
            origin=row.origin,
            blocked_bills=row.blocked_bills,
        )
        for row in rows
    ]
    return sorted(lines, key=lambda m: (not m.missing, -m.blocked_bills, m.zoho_name.lower()))


def mappings_from(result: Mappings) -> dict[str, list[MappingLine]]:
    """The engine's `mappings(profile_id)` result as three lists."""
    return {
        "cost_center": mapping_lines("cost_center", result.cost_centers),
        "gl_account": mapping_lines("gl_account", result.gl_accounts),
        "supplier": mapping_lines("supplier", result.suppliers),
    }


def _line(line: LinePreview) -> BillLineItem:
    missing = []
    if line.cost_center_number is None:
        missing.append(f"cost center {line.cost_center!r}" if line.cost_center else "cost center")
    if line.gl_number is None:
        missing.append(f"GL account {line.gl_account!r}" if line.gl_account else "GL account")
    return BillLineItem(
        description=line.description or "",
        amount=line.amount,
        cost_center=f"{line.cost_center_number} {line.cost_center or ''}".strip()
        if line.cost_center_number
        else line.cost_center,
        gl_account=f"{line.gl_number} {line.gl_account or ''}".strip() if line.gl_number else line.gl_account,
        missing=missing,
    )


def _document(attachment: AttachmentPreview) -> DocumentView:
    return DocumentView(
        name=attachment.file_name or attachment.document_id,
        size_bytes=attachment.size_bytes,
        note=attachment.note,
        ok=attachment.outcome in ("attach", "attached"),
    )


def invoice_from(item: PreviewItem) -> InvoiceView | None:
    """The invoice a read bill would become (None for a bill shown from its list row only)."""
    doc, facts = item.document, item.facts
    if doc is None:
        return None
    view = _document_view(doc, facts.line_taxes if facts is not None else {})
    return replace(
        view,
        due_date=facts.due_date if facts else None,
        payment_terms=terms_label(facts.payment_terms_label if facts else None, doc.payment_terms),
        remit_to=address_line(facts.remit_to) if facts else None,
        reference=facts.reference_number if facts else None,
        documents=tuple(_document(a) for a in item.attachments),
    )


def _document_view(doc: InvoiceDocument, taxes: dict[str, tuple[TaxPart, ...]]) -> InvoiceView:
    """The header, lines and amounts of an invoice document (a bill's or a credit's)."""
    lines = tuple(
        InvoiceLineView(
            description=line.description or "",
            amount=line.amount,
            tax=line.tax,
            cost_center=_coded(line.cost_center_number, line.cost_center),
            gl_account=_coded(line.gl_number, line.gl_account),
            taxes=tuple(TaxLineView(p.name, p.rate, p.amount) for p in taxes.get(line.line_id, ())),
            cost_center_missing=line.cost_center_number is None,
            gl_missing=line.gl_number is None,
        )
        for line in doc.lines
    )
    return InvoiceView(
        number=doc.bill_number,
        supplier=doc.vendor_name or "",
        supplier_code=doc.supplier_code,
        date=doc.date,
        currency=doc.currency,
        exchange_rate=doc.exchange_rate,
        lines=lines,
        subtotal=doc.subtotal,
        tax=doc.tax,
        adjustment=doc.adjustment,
        adjustment_label=doc.adjustment_description,
        discount=doc.discount,
        total=doc.total,
        business_owner=doc.business_owner,
        notes=tuple(doc.notes),
    )


def _coded(number: str | None, name: str | None) -> str | None:
    """`CC-LON-100 Consulting London`: ServiceNow's number then Zoho's name (the name alone when unmapped)."""
    if number:
        return f"{number} {name or ''}".strip()
    return name


def credit_from(credit: CreditPreview, numbers: dict[str, str]) -> BillPreview:
    """A vendor credit as a row of the bill list, with the credit memo it would become."""
    settlements = tuple(
        (numbers.get(bill) or credit.bill_numbers.get(bill) or bill, a) for bill, a in credit.settlements
    )
    invoice = None
    if credit.memo is not None:
        invoice = replace(_document_view(credit.memo, {}), kind="credit memo", settlements=settlements)
    missing = [p.message for p in credit.problems] or ([credit.note] if credit.note else [])
    return BillPreview(
        key=f"credit:{credit.vendor_credit_id}",
        number=credit.number,
        vendor=credit.vendor_name or "",
        date=credit.date or "",
        total=credit.total,
        currency=credit.currency,
        missing=missing,
        outcome="credit",
        invoice=invoice,
        credit_outcome=credit.outcome,
    )


def bill_from(item: PreviewItem) -> BillPreview:
    """One preview item as a bill row with its lines and the invoice it would become."""
    doc = item.document
    listed = item.listed  # a bill waiting for approval in Zoho: its list row, no detail
    return BillPreview(
        key=item.bill_id,
        number=item.bill_number or (doc.bill_number if doc else "") or "",
        vendor=(doc.vendor_name or "") if doc else ((listed.vendor_name or "") if listed else ""),
        date=(doc.date or "") if doc else (listed.date.isoformat() if listed and listed.date else ""),
        total=doc.total if doc else (listed.total if listed else None),
        currency=doc.currency if doc else (listed.currency_code if listed else None),
        missing=[problem.message for problem in item.problems],
        lines=[_line(line) for line in doc.lines] if doc else [],
        outcome=item.outcome,
        invoice=invoice_from(item),
    )


def bills_from(preview: PreviewReport) -> list[BillPreview]:
    """The engine's preview result as rows, by group (`GROUPS`: what needs the operator first), then date;
    the vendor credits last, as the credit memos they would become."""
    order = {name: position for position, name in enumerate(dict(GROUPS))}
    rows = [bill_from(item) for item in preview.items]
    numbers = {item.bill_id: item.bill_number for item in preview.items if item.bill_number}
    rows += [credit_from(credit, numbers) for credit in preview.credits]
    return sorted(rows, key=lambda b: (order[b.group], b.date))
