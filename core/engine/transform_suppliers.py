"""A Zoho vendor contact to the ServiceNow supplier staging row (a vendor ServiceNow does not know yet)."""

from __future__ import annotations

from zbsn.core.engine import columns as col
from zbsn.core.engine.payment_terms import servicenow_payment_term
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.supplier_legal_entity import mapping_row
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.zoho.models import ZohoVendor


def supplier_rows(vendor: ZohoVendor, context: RunContext) -> list[StagingRow]:
    """The supplier staging row for a vendor ServiceNow does not know (when the profile allows creating),
    then its mapping to the profile's legal entity with the vendor's default payment terms (an invoice
    without one meets "Invalid or blocked supplier"). The supplier row stays first: its outcome is the
    record's."""
    code = col.supplier_code(context.organization_id, vendor.contact_id)
    address = vendor.billing_address
    values = {
        "u_erp_supplier_code": code,
        "u_name": vendor.contact_name,
        "u_legal_name": vendor.company_name or vendor.contact_name,
        "u_erp_company_code": context.legal_entity or "",
        "u_erp_source": context.erp_source,
        "u_tax_id": vendor.tax_id or "",
        "u_email": vendor.email or "",
        "u_street": (address.address or "") if address else "",
        "u_city": (address.city or "") if address else "",
        "u_state": (address.state or "") if address else "",
        "u_zip": (address.zip or "") if address else "",
        "u_country": (address.country or "") if address else "",
    }
    rows = [StagingRow(table=col.SUPPLIER_TABLE, source_ref=code, values=values)]
    if context.legal_entity:
        term = servicenow_payment_term(
            vendor.payment_terms_label, vendor.payment_terms, context.payment_terms_overrides
        )
        rows.append(mapping_row(code, context.legal_entity, term, context))
    return rows
