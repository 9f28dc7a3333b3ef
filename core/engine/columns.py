"""Staging tables and the column names zbsn writes (the sandbox's schema, sn-ref §7.4-7.7).

The invoice transform coalesces on (`u_external_invoice_number`, `u_erp_source`); lines and tax lines on the
header key plus `u_erp_line_number`; payment details on `u_payment_reference_id`; suppliers on
`u_erp_supplier_code`; supplier <-> legal entity mappings on supplier + legal entity; FX rates on from, to,
conversion date and ERP source ([I] for the last two). A foreign-currency invoice's rate travels through FX
rate staging (`fx_rates.py`), never in an invoice column: the invoice staging table has none.

What zbsn never writes: `u_invoice_state` (cancelling an invoice is an AP specialist's action in ServiceNow;
a Zoho void or delete is flagged to the operator instead) and `u_purchase_order` (its invoices are non-PO
invoices, whose purchase order stays empty). `WRITTEN` lists every column it does write, per staging table:
the pre-flight names the mandatory ones it skips.
"""

from __future__ import annotations

INVOICE_TABLE = "sn_spend_intg_imp_invoice"
INVOICE_LINE_TABLE = "sn_spend_intg_imp_invoice_line"
INVOICE_TAX_LINE_TABLE = "sn_spend_intg_imp_invoice_tax_line"
PAYMENT_DETAIL_TABLE = "sn_spend_intg_imp_invoice_payment_detail"
SUPPLIER_TABLE = "sn_fcms_intg_imp_supplier"
# Supplier legal entity mapping inbound (slo-legal-entity-inbound-table.md [C]) -> sn_fin_supplier_detail
SUPPLIER_LEGAL_ENTITY_TABLE = "sn_fcms_intg_supplier_legal_entity_inbound"
FX_RATE_TABLE = "sn_fcms_intg_fx_rate_stage"  # FX Rate Stage inbound (spo-fx-rate-inbound-table.md [C])
INVOICE_TARGET_TABLE = "sn_shop_invoice"
# Staged first in a batch whatever order its records name them in: an invoice needs its supplier, the
# supplier's legal entity mapping and its FX rate before the exception engine looks at it.
PREREQUISITE_TABLES = (SUPPLIER_TABLE, SUPPLIER_LEGAL_ENTITY_TABLE, FX_RATE_TABLE)

CANCELED_STATE = "canceled"  # sn_shop_invoice.state of a canceled invoice (read, never written)
INVOICE_TYPE = "non_po_invoice"

WRITTEN: dict[str, tuple[str, ...]] = {
    INVOICE_TABLE: (
        "u_external_invoice_number",
        "u_external_invoice_source",
        "u_erp_source",
        "u_erp_number",
        "u_third_party_import_id",
        "u_supplier_invoice_number",
        "u_supplier",
        "u_supplier_tax_id",
        "u_invoice_date",
        "u_due_date",
        "u_currency",
        "u_subtotal",
        "u_tax_amount",
        "u_shipping_amount",
        "u_other_charges",
        "u_discounts",
        "u_amount_invoiced",
        "u_payment_terms",
        "u_legal_entity",
        "u_business_owner",
        "u_invoice_type",
        "u_invoice_line_count",
        "u_short_description",
    ),
    INVOICE_LINE_TABLE: (
        "u_external_invoice_number",
        "u_erp_source",
        "u_erp_line_number",
        "u_line_description",
        "u_line_quantity",
        "u_line_unit_price",
        "u_line_amount_invoiced",
        "u_subtotal",
        "u_tax_amount",
        "u_cost_center",
        "u_gl_account",
        "u_tax_code",
        "u_currency",
    ),
    INVOICE_TAX_LINE_TABLE: (
        "u_external_invoice_number",
        "u_erp_source",
        "u_erp_line_number",
        "u_tax_type",
        "u_tax_amount",
        "u_taxable_amount",
        "u_supplier_tax_rate",
        "u_currency",
    ),
    PAYMENT_DETAIL_TABLE: (
        "u_erp_invoice_number",
        "u_erp_supplier_code",
        "u_erp_source",
        "u_currency",
        "u_payment_amount",
        "u_payment_date",
        "u_scheduled_payment_date",
        "u_payment_method",
        "u_payment_reference_id",
        "u_third_party_import_id",
        "u_remit_to_street",
        "u_remit_to_city",
        "u_remit_to_state_or_province",
        "u_remit_to_zip_or_postal_code",
        "u_remit_to_country",
    ),
    SUPPLIER_TABLE: (
        "u_erp_supplier_code",
        "u_name",
        "u_legal_name",
        "u_erp_company_code",
        "u_erp_source",
        "u_tax_id",
        "u_email",
        "u_street",
        "u_city",
        "u_state",
        "u_zip",
        "u_country",
    ),
    # [I] column names: the documented labels' usual `u_` snake case (the mapping page documents Supplier
    # and Legal entity as mandatory; Payment term is a field of sn_fin_supplier_detail)
    SUPPLIER_LEGAL_ENTITY_TABLE: ("u_supplier", "u_legal_entity", "u_payment_term"),
    FX_RATE_TABLE: (
        "u_from_currency",
        "u_to_currency",
        "u_conversion_date",
        "u_exchange_rate",
        "u_erp_source",
    ),
}

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


def erp_invoice_number(bill_id: str) -> str:
    """The invoice's ERP number: the Zoho bill id. The header sends it (`u_erp_number`), zbsn posts the
    outbound invoice with it, and payments name their invoice by it (`u_erp_invoice_number`)."""
    return bill_id


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
