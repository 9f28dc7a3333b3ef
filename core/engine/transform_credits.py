"""Vendor credits (debit notes) to ServiceNow staging: a credit memo, and a settlement per bill it was applied
to.

The credit memo is an invoice of type `credit_memo` in the invoice staging tables (sn-ref §7.4: Invoice
type values include `credit_memo`; `u_original_invoice` names the invoice a credit memo is for), mapped as a
bill is (`transform.bill_to_invoice`: supplier, cost centers, GL accounts, currency, tax lines, the same
validation), under its own key `ZB-<org>-VC-<credit>`. Its amounts are sent negative: APO recognises a credit
memo by "negative amount fields" beside the original invoice it names (ServiceNowDocs
accounts-payable-operations/invoice-type-credit-memo.md [C]); the unit price is negated with the amounts so
quantity x price still gives the line. Settlements stay positive: they are amounts applied to a bill.

A credit applied to a bill settles part of that bill as a payment does: each application is a payment-detail
row on the bill's invoice (named by its ERP number, the bill id), keyed `ZB-<org>-VC-<credit>-<bill>`, so the
invoice reaches Paid in ServiceNow when payments and credits cover it, as the bill is paid in Zoho. [I] None
of the documented payment methods (sn-ref §7.6) is a credit: the row carries none, nor a remit-to address
(no money goes to the vendor; a vendor payment's row carries its address). An application to a bill whose
invoice is not staged waits (INVOICE_NOT_STAGED), as a payment does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from zbsn.core.engine import columns as col
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.staging_values import dedupe, local_date, money
from zbsn.core.engine.transform import InvoiceDocument, bill_to_invoice
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.zoho.models import ZohoBill, ZohoVendorCredit

CREDIT_MEMO_TYPE = "credit_memo"


def credit_id_as_bill_id(vendor_credit_id: str) -> str:
    """The id a credit memo goes by where a bill id would: `VC-<credit>` (its ERP number and key part)."""
    return f"VC-{vendor_credit_id}"


def credit_key(organization_id: str, vendor_credit_id: str) -> str:
    """The credit memo's external invoice number: `ZB-<org>-VC-<credit>`."""
    return col.invoice_key(organization_id, credit_id_as_bill_id(vendor_credit_id))


def settlement_reference(organization_id: str, vendor_credit_id: str, bill_id: str) -> str:
    """The coalesce key of one application of a credit to a bill."""
    return f"{credit_key(organization_id, vendor_credit_id)}-{bill_id}"


def _as_bill(credit: ZohoVendorCredit) -> ZohoBill:
    return ZohoBill(
        bill_id=credit_id_as_bill_id(credit.vendor_credit_id),
        bill_number=credit.vendor_credit_number,
        vendor_id=credit.vendor_id,
        vendor_name=credit.vendor_name,
        status="open",
        date=credit.date,
        due_date=credit.date,
        currency_code=credit.currency_code,
        exchange_rate=credit.exchange_rate,
        total=credit.total,
        balance=credit.balance,
        created_time=credit.created_time,
        last_modified_time=credit.last_modified_time,
        reference_number=credit.reference_number,
        sub_total=credit.sub_total,
        tax_total=credit.tax_total,
        is_inclusive_tax=credit.is_inclusive_tax,
        line_items=credit.line_items,
        taxes=credit.taxes,
        notes=credit.notes,
    )


@dataclass(slots=True)
class CreditMemoDocument:
    """A vendor credit mapped to its credit memo rows and settlement rows, or what keeps it back."""

    memo: InvoiceDocument
    settlements: list[tuple[str, Decimal]] = field(default_factory=list)  # (bill id, amount) applied
    rows: list[StagingRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def credit_to_memo(
    credit: ZohoVendorCredit, context: RunContext, index: MappingIndex, staged_bills: set[str]
) -> CreditMemoDocument:
    """Map one vendor credit (see the module docstring); `staged_bills`: bills whose invoice is staged."""
    memo = bill_to_invoice(_as_bill(credit), context, index)
    problems = list(memo.problems)
    settlements = [(a.bill_id, a.amount) for a in credit.bills_credited]
    rows: list[StagingRow] = []
    day = local_date(credit.date, credit.created_time, context.time_zone) or ""
    for application in credit.bills_credited:
        if application.bill_id not in staged_bills:
            label = application.bill_number or application.bill_id
            message = f"credit applied to bill {label}, whose invoice is not staged yet"
            problems.append(Problem(ErrorCode.INVOICE_NOT_STAGED, message, label))
        bill_id = application.bill_id
        reference = settlement_reference(context.organization_id, credit.vendor_credit_id, bill_id)
        # [S] The item's `date` is reported to be the credited bill's date, not the application's (a public
        # integration found its values months apart while the credit's own comments recorded every
        # application on two days). An application is never earlier than the credit, so the later of the two.
        on = max(local_date(application.date, None, context.time_zone) or "", day)
        rows.append(
            StagingRow(
                table=col.PAYMENT_DETAIL_TABLE,
                source_ref=reference,
                values={
                    "u_erp_invoice_number": col.erp_invoice_number(application.bill_id),
                    "u_erp_supplier_code": memo.supplier_code or "",
                    "u_erp_source": context.erp_source,
                    "u_currency": credit.currency_code,
                    "u_payment_amount": money(application.amount),
                    "u_payment_date": on,
                    "u_scheduled_payment_date": on,
                    "u_payment_method": "",
                    "u_payment_reference_id": reference,
                    "u_third_party_import_id": reference,
                },
            )
        )
    document = CreditMemoDocument(memo=memo, settlements=settlements, problems=dedupe(problems))
    if document.ok and memo.rows:
        for row in memo.rows:
            _negate_amounts(row)
        header = memo.rows[0]
        header.values["u_invoice_type"] = CREDIT_MEMO_TYPE
        if credit.bills_credited:  # the bill it was applied to first (a credit may settle several)
            header.values["u_original_invoice"] = col.erp_invoice_number(credit.bills_credited[0].bill_id)
        header.values["u_short_description"] = f"Zoho Books vendor credit {credit.vendor_credit_number}"[:160]
        document.rows = [*memo.rows, *rows]
    return document


# The amount columns of a credit memo's header, lines and tax lines (transform.py writes them positive).
CREDIT_AMOUNT_COLUMNS = {
    col.INVOICE_TABLE: ("u_subtotal", "u_tax_amount", "u_other_charges", "u_discounts", "u_amount_invoiced"),
    col.INVOICE_LINE_TABLE: ("u_line_unit_price", "u_line_amount_invoiced", "u_subtotal", "u_tax_amount"),
    col.INVOICE_TAX_LINE_TABLE: ("u_tax_amount", "u_taxable_amount"),
}


def _negate_amounts(row: StagingRow) -> None:
    """Turn a credit memo row's amounts negative (zero stays zero: `0.00`, never `-0.00`)."""
    for column in CREDIT_AMOUNT_COLUMNS.get(row.table, ()):
        value = row.values.get(column)
        if value in (None, ""):
            continue
        amount = -Decimal(str(value))
        row.values[column] = str(amount) if amount else str(abs(amount))
