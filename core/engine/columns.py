"""Staging tables and the column names zbsn writes (the sandbox's schema, sn-ref §7.4-7.7).

The invoice transform coalesces on (`u_external_invoice_number`, `u_erp_source`); lines and tax lines on the
header key plus `u_erp_line_number`; payment details on `u_payment_reference_id`; suppliers on
`u_erp_supplier_code`. `u_invoice_state = "canceled"` cancels an invoice. The header's `u_exchange_rate`
("Exchange rate") carries Zoho's rate from the document currency to the org's base currency; it is an [I]
column (the reference lists no FX column on invoice staging; the sandbox adds it).
"""

from __future__ import annotations

INVOICE_TABLE = "sn_spend_intg_imp_invoice"
INVOICE_LINE_TABLE = "sn_spend_intg_imp_invoice_line"
INVOICE_TAX_LINE_TABLE = "sn_spend_intg_imp_invoice_tax_line"
PAYMENT_DETAIL_TABLE = "sn_spend_intg_imp_invoice_payment_detail"
SUPPLIER_TABLE = "sn_fcms_intg_imp_supplier"
INVOICE_TARGET_TABLE = "sn_shop_invoice"
EXCHANGE_RATE = "u_exchange_rate"  # [I] invoice header column

CANCELED_STATE = "canceled"
INVOICE_TYPE = "non_po_invoice"

# Zoho payment_mode labels -> ServiceNow payment method values (sn-ref §7.6).
PAYMENT_METHODS = {
    "bank transfer": "bank_transfer",
    "bank remittance": "bank_transfer",
    "check": "cheque",
    "cheque": "cheque",
    "cash": "cash_payment",
    "credit card": "credit_card",
    "debit card": "debit_card",
    "wire transfer": "wire_transfer",
}
DEFAULT_PAYMENT_METHOD = "bank_transfer"


def invoice_key(organization_id: str, bill_id: str) -> str:
    """The stable external invoice number of a bill: `ZB-<org>-<bill>`."""
    return f"ZB-{organization_id}-{bill_id}"


def payment_key(organization_id: str, payment_id: str) -> str:
    """The audit key of a vendor payment: `ZB-<org>-VP-<payment>`."""
    return f"ZB-{organization_id}-VP-{payment_id}"


def payment_reference(organization_id: str, payment_id: str, bill_id: str) -> str:
    """The coalesce key of one payment allocation (a payment can settle several bills)."""
    return f"ZB-{organization_id}-VP-{payment_id}-{bill_id}"


def supplier_code(organization_id: str, vendor_id: str) -> str:
    """The ERP supplier code zbsn gives a vendor it stages as a new supplier."""
    return f"ZB-{organization_id}-V-{vendor_id}"
