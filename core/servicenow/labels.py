"""Column labels of the staging tables: insertMultiple keys records by LABEL unless configured otherwise.

sn-ref §4.1: by default `POST /api/now/import/{table}/insertMultiple` expects each record keyed by
the staging column's *label* (e.g. `External invoice number`), while the single-row endpoint takes column
names (`u_external_invoice_number`). A `sys_rest_insert_multiple` row can switch a table to column names.

[I] The documented fact sheet gives column names but not every label; these labels are ServiceNow's usual
title of the column and match the zbsn sandbox (sandbox/servicenow/schema.py). A real instance may label a
column differently (labels are editable): pass `labels=` to `ServiceNowClient` to override per table, or
switch the table to column keying and pass `key_by="column"`.
"""

from __future__ import annotations

from collections.abc import Mapping

StagingLabels = Mapping[str, Mapping[str, str]]  # staging table -> column name -> label

INVOICE = "sn_spend_intg_imp_invoice"
INVOICE_LINE = "sn_spend_intg_imp_invoice_line"
INVOICE_TAX_LINE = "sn_spend_intg_imp_invoice_tax_line"
PAYMENT_DETAIL = "sn_spend_intg_imp_invoice_payment_detail"
SUPPLIER = "sn_fcms_intg_imp_supplier"
COST_CENTER = "sn_fcms_intg_imp_cost_center"
GL_ACCOUNT = "sn_fcms_intg_gl_account_stage"
SUPPLIER_LEGAL_ENTITY = "sn_fcms_intg_supplier_legal_entity_inbound"  # slo-legal-entity-inbound-table.md
FX_RATE = "sn_fcms_intg_fx_rate_stage"  # spo-fx-rate-inbound-table.md

DEFAULT_LABELS: dict[str, dict[str, str]] = {
    INVOICE: {
        "u_external_invoice_number": "External invoice number",
        "u_external_invoice_source": "External invoice source",
        "u_erp_source": "ERP source",
        "u_supplier_invoice_number": "Supplier invoice number",
        "u_supplier": "Supplier",
        "u_invoice_date": "Invoice date",
        "u_due_date": "Due date",
        "u_currency": "Currency",
        "u_subtotal": "Subtotal",
        "u_shipping_amount": "Shipping amount",
        "u_other_charges": "Other charges",
        "u_discounts": "Discounts",
        "u_tax_amount": "Tax amount",
        "u_amount_invoiced": "Amount invoiced",
        "u_purchase_order": "Purchase order",
        "u_legal_entity": "Legal entity",
        "u_invoice_type": "Invoice type",
        "u_original_invoice": "Original invoice",
        "u_business_owner": "Business owner",
        "u_erp_number": "ERP number",
        "u_invoice_line_count": "Invoice line count",
        "u_supplier_tax_id": "Supplier tax id",
        "u_payment_terms": "Payment terms",
        "u_short_description": "Short description",
        "u_invoice_state": "Invoice state",
        "u_third_party_import_id": "Third party import ID",
    },
    INVOICE_LINE: {
        "u_external_invoice_number": "External invoice number",
        "u_erp_source": "ERP source",
        "u_erp_line_number": "ERP line number",
        "u_line_description": "Line description",
        "u_line_quantity": "Line quantity",
        "u_line_unit_price": "Line unit price",
        "u_line_amount_invoiced": "Line amount invoiced",
        "u_subtotal": "Subtotal",
        "u_tax_amount": "Tax amount",
        "u_cost_center": "Cost center",
        "u_gl_account": "GL account",
        "u_tax_code": "Tax code",
        "u_purchase_order_line": "Purchase order line",
        "u_supplier_part_number": "Supplier part number",
        "u_uom": "Unit",
        "u_currency": "Currency",
    },
    INVOICE_TAX_LINE: {
        "u_external_invoice_number": "External invoice number",
        "u_erp_source": "ERP source",
        "u_erp_line_number": "ERP line number",
        "u_tax_type": "Tax type",
        "u_tax_amount": "Tax amount",
        "u_taxable_amount": "Taxable amount",
        "u_supplier_tax_rate": "Supplier tax rate",
        "u_currency": "Currency",
    },
    PAYMENT_DETAIL: {
        "u_erp_invoice_number": "ERP invoice number",
        "u_erp_supplier_code": "ERP supplier code",
        "u_erp_source": "ERP source",
        "u_currency": "Currency",
        "u_payment_amount": "Payment amount",
        "u_payment_date": "Payment date",
        "u_payment_method": "Payment method",
        "u_payment_reference_id": "Payment reference ID",
        "u_scheduled_payment_date": "Scheduled payment date",
        "u_remit_to_street": "Remit-to street",
        "u_remit_to_city": "Remit-to city",
        "u_remit_to_state_or_province": "Remit-to state or province",
        "u_remit_to_zip_or_postal_code": "Remit-to zip or postal code",
        "u_remit_to_country": "Remit-to country",
        "u_third_party_import_id": "Third party import ID",
    },
    SUPPLIER: {
        "u_erp_supplier_code": "ERP supplier code",
        "u_name": "Name",
        "u_legal_name": "Legal name",
        "u_erp_company_code": "ERP company code",
        "u_erp_source": "ERP source",
        "u_tax_id": "Tax id",
        "u_payment_term": "Payment term",
        "u_email": "Email",
        "u_street": "Street",
        "u_city": "City",
        "u_state": "State",
        "u_zip": "Zip",
        "u_country": "Country",
        "u_website": "Website",
        "u_phone": "Primary phone",
        "u_status": "Status",
    },
    COST_CENTER: {
        "u_account_number": "Account number",
        "u_name": "Name",
        "u_code": "Code",
        "u_cost_center_type": "Cost center type",
        "u_controlling_area": "Controlling area",
        "u_erp_source": "ERP source",
        "u_legal_entity": "Legal entity",
        "u_manager": "Manager",
        "u_profit_center": "Profit center",
        "u_valid_from": "Valid from",
        "u_valid_to": "Valid to",
        "u_available_for_user": "Available for user",
    },
    GL_ACCOUNT: {
        "u_number": "Number",
        "u_account_name": "Account name",
        "u_account_currency": "Account currency",
        "u_alternate_currency": "Alternate currency",
        "u_category": "Category",
        "u_entity": "Entity",
        "u_erp_source": "ERP source",
        "u_gl_account": "GL Account",
        "u_inactive": "Inactive",
        "u_ledger_type": "Ledger type",
        "u_local_currency": "Local currency",
        "u_short_description": "Short description",
        "u_sub_ledger_account": "Sub-ledger account",
        "u_type": "Type",
    },
    # labels as documented [C]; column names are [I]
    SUPPLIER_LEGAL_ENTITY: {
        "u_supplier": "Supplier",
        "u_legal_entity": "Legal entity",
        "u_payment_term": "Payment term",  # [I] a field of sn_fin_supplier_detail, not listed on the stage
    },
    FX_RATE: {
        "u_conversion_date": "Conversion date",
        "u_erp_source": "ERP source",
        "u_exchange_rate": "Exchange rate",
        "u_from_currency": "From currency",
        "u_to_currency": "To currency",
        "u_rate_type": "Rate type",
        "u_span_start": "Span start",
        "u_span_end": "Span end",
    },
}


def merged_labels(overrides: StagingLabels | None) -> dict[str, dict[str, str]]:
    """The default label maps with `overrides` applied per table and column."""
    merged = {table: dict(columns) for table, columns in DEFAULT_LABELS.items()}
    for table, columns in (overrides or {}).items():
        merged.setdefault(table, {}).update(columns)
    return merged
