"""Vendor payments to ServiceNow payment-detail staging rows, one per bill a payment pays, with validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from zbsn.core.engine import columns as col
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.remit_to import remit_to_values
from zbsn.core.engine.staging_values import check_currency, dedupe, local_date, money, supplier_ref
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.zoho.models import ZohoVendorPayment


@dataclass(slots=True)
class PaymentDocument:
    """A vendor payment mapped to one payment-detail row per bill it pays."""

    external_key: str
    payment_id: str
    payment_number: str | None
    vendor_name: str | None
    date: str | None
    currency: str | None
    amount: Decimal
    rows: list[StagingRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def payment_to_details(
    payment: ZohoVendorPayment,
    context: RunContext,
    index: MappingIndex,
    staged_bills: set[str],
) -> PaymentDocument:
    """Map one vendor payment: a payment-detail row per bill it pays, naming the bill's invoice by the ERP
    number its header carries (the bill id).

    `staged_bills` holds the ids of bills whose invoice is in staging; a payment for any other bill waits.
    """
    key = col.payment_key(context.organization_id, payment.payment_id)
    problems: list[Problem] = []
    supplier, problem = supplier_ref(payment.vendor_id, payment.vendor_name, index)
    if problem:
        problems.append(problem)
    currency = payment.currency_code
    currency_problem = check_currency(currency, index)
    if currency_problem:
        problems.append(currency_problem)
    pay_date = local_date(payment.date, payment.created_time, context.time_zone)
    if pay_date is None:
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, "the payment has no date"))
    if not payment.bills:
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, "the payment is applied to no bill"))
    method = col.PAYMENT_METHODS.get(
        (payment.payment_mode or "").casefold().strip(), col.DEFAULT_PAYMENT_METHOD
    )
    rows: list[StagingRow] = []
    remit_to = remit_to_values(payment.billing_address)  # the vendor's address, country as ISO 3166
    for allocation in payment.bills:
        if allocation.bill_id not in staged_bills:
            label = allocation.bill_number or allocation.bill_id
            problems.append(Problem(ErrorCode.INVOICE_NOT_STAGED, f"bill {label} is not staged yet", label))
        reference = col.payment_reference(context.organization_id, payment.payment_id, allocation.bill_id)
        rows.append(
            StagingRow(
                table=col.PAYMENT_DETAIL_TABLE,
                source_ref=reference,
                values={
                    # the header's ERP number (what the invoice matches a payment by, sn-ref §7.6)
                    "u_erp_invoice_number": col.erp_invoice_number(allocation.bill_id),
                    "u_erp_supplier_code": (supplier.sn_value or "") if supplier else "",
                    "u_erp_source": context.erp_source,
                    "u_currency": currency or "",
                    "u_payment_amount": money(allocation.amount_applied),
                    "u_payment_date": pay_date or "",
                    "u_scheduled_payment_date": pay_date or "",
                    "u_payment_method": method,
                    "u_payment_reference_id": reference,
                    "u_third_party_import_id": reference,
                    **remit_to,
                },
            )
        )
    document = PaymentDocument(
        external_key=key,
        payment_id=payment.payment_id,
        payment_number=payment.payment_number,
        vendor_name=payment.vendor_name,
        date=pay_date,
        currency=currency,
        amount=payment.amount,
        problems=dedupe(problems),
    )
    if document.ok:
        document.rows = rows
    return document
