"""Supplier <-> legal entity mappings staged through `sn_fcms_intg_supplier_legal_entity_inbound`.

An invoice whose supplier and legal entity have no `sn_fin_supplier_detail` row meets "Invalid or blocked
supplier" in ServiceNow (work-with-invoice-exceptions.md [C]; sn-ref §7.3). The inbound table
(slo-legal-entity-inbound-table.md [C]: Supplier and Legal entity, both mandatory) loads that mapping, so:
- a vendor staged as a new supplier carries its mapping row to the profile's legal entity;
- a bill whose supplier has no mapping for the profile's legal entity carries the mapping row (with the
  bill's payment term) when the profile stages master data (`allow_supplier_create`), and says so in the
  preview; when it does not, the preview warns that the invoice will meet the exception.
Rows are keyed `ZB-<org>-SLE-<supplier code>-<legal entity>` (a batch sends one per pair) and coalesce on
supplier + legal entity [I], so a re-run updates the one mapping instead of adding one. [I] Supplier is sent
as the ERP supplier code and Legal entity as the ERP company code (the page says only "String").
"""

from __future__ import annotations

from zbsn.core.engine import columns as col
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.normalize import normalize_code
from zbsn.core.engine.ports import RunContext
from zbsn.core.servicenow.models import StagingRow


def mapping_key(organization_id: str, supplier_code: str, legal_entity: str) -> str:
    """The mapping row's source reference: one per (supplier, legal entity) and org."""
    return f"ZB-{organization_id}-SLE-{supplier_code}-{legal_entity}"


def mapping_row(
    supplier_code: str, legal_entity: str, payment_term: str | None, context: RunContext
) -> StagingRow:
    """The inbound row mapping a supplier to a legal entity (with its payment term when known)."""
    values = {"u_supplier": supplier_code, "u_legal_entity": legal_entity}
    if payment_term:
        values["u_payment_term"] = payment_term
    return StagingRow(
        table=col.SUPPLIER_LEGAL_ENTITY_TABLE,
        source_ref=mapping_key(context.organization_id, supplier_code, legal_entity),
        values=values,
    )


def is_unmapped(supplier_code: str | None, index: MappingIndex) -> bool:
    """True when ServiceNow is known to hold no mapping of this supplier to the profile's legal entity."""
    return bool(
        supplier_code
        and index.legal_entity
        and index.mapped_suppliers is not None
        and normalize_code(supplier_code) not in index.mapped_suppliers
    )


def bill_mapping(
    supplier_code: str | None, payment_term: str | None, context: RunContext, index: MappingIndex
) -> tuple[StagingRow | None, str | None]:
    """The mapping row a bill carries (None when not needed or not allowed) and the preview's note."""
    if not is_unmapped(supplier_code, index) or supplier_code is None or index.legal_entity is None:
        return None, None
    pair = f"{supplier_code} <-> {index.legal_entity}"
    if context.allow_supplier_create:
        row = mapping_row(supplier_code, index.legal_entity, payment_term, context)
        return row, f"supplier legal entity mapping {pair} will be created (sn_fin_supplier_detail)"
    return None, (
        f"warning: no supplier legal entity mapping {pair} in ServiceNow, and this profile does not stage "
        "master data: the invoice will meet 'Invalid or blocked supplier'"
    )
