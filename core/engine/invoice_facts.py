"""What the preview tells of a bill beyond its `InvoiceDocument`: the facts an operator checks on the invoice
it would become (due date, Zoho's payment terms label, remit-to address, each line's taxes as Zoho computed
them, one per component of a tax group).

Read from the same Zoho bill and through the same functions a run uses (`bill_amounts.line_amounts`,
`remit_to.remit_to_values`), so the preview shows what would be sent, never a second computation.
The remit-to is the vendor's address on the bill: the address every payment detail of this invoice carries
(`transform_payments`, from the vendor payment's `billing_address`, the same vendor's address [I]).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zbsn.core.engine.bill_amounts import TaxPart, line_amounts
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.remit_to import remit_to_values
from zbsn.core.engine.staging_values import local_date
from zbsn.core.zoho.models import ZohoBill


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """A previewed bill's header facts and per-line taxes (`line_taxes`: line id -> its tax parts)."""

    due_date: str | None
    payment_terms_label: str | None  # Zoho's own label ("Net 30"); the document names the ServiceNow term
    reference_number: str | None
    remit_to: dict[str, str]  # the `u_remit_to_*` columns (empty strings when unknown)
    tax_inclusive: bool
    line_taxes: dict[str, tuple[TaxPart, ...]] = field(default_factory=dict)


def invoice_facts(bill: ZohoBill, context: RunContext) -> InvoiceFacts:
    """The facts of `bill` as a run would send them (a line whose amounts overflow has no taxes)."""
    taxes: dict[str, tuple[TaxPart, ...]] = {}
    for line in bill.line_items:
        try:
            parts = line_amounts(line, bill.is_inclusive_tax).parts
        except ArithmeticError:  # the document already says "amounts out of range"
            parts = ()
        taxes[str(line.line_item_id)] = tuple(p for p in parts if p.amount)
    return InvoiceFacts(
        due_date=local_date(bill.due_date, None, context.time_zone),
        payment_terms_label=bill.payment_terms_label,
        reference_number=bill.reference_number,
        remit_to=remit_to_values(bill.billing_address),
        tax_inclusive=bill.is_inclusive_tax,
        line_taxes=taxes,
    )
