"""A read-only snapshot of one profile's mappings, the lookups every transform uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from zbsn.core.db.models import CostCenterMap, GLAccountMap, SupplierMap
from zbsn.core.domain import MappingStatus
from zbsn.core.engine.masters import ServiceNowMasters
from zbsn.core.engine.normalize import normalize_code, normalize_name
from zbsn.core.engine.ports import RunContext


@dataclass(frozen=True, slots=True)
class MappedRef:
    """A Zoho value and the ServiceNow value it maps to (`sn_value` None: missing)."""

    zoho_name: str
    sn_value: str | None
    sn_name: str | None = None
    tax_id: str | None = None


@dataclass(slots=True)
class MappingIndex:
    """Lookups by Zoho key, plus the run-wide references (legal entity, currencies)."""

    cost_centers: dict[str, MappedRef] = field(default_factory=dict)
    gl_accounts: dict[str, MappedRef] = field(default_factory=dict)
    suppliers: dict[str, MappedRef] = field(default_factory=dict)
    legal_entity: str | None = None  # the validated ERP company code, None when missing
    legal_entity_problem: str | None = None
    currencies: frozenset[str] | None = None
    # ERP supplier codes with a sn_fin_supplier_detail row for the legal entity; None: unknown (not read)
    mapped_suppliers: frozenset[str] | None = None
    # configured business owner (owner_key) -> the value staged, None when no active user; None: not read
    owners: dict[str, str | None] | None = None
    # why the instance cannot stage FX rates (the pre-flight's finding), None when it can or was not checked
    fx_staging_problem: str | None = None


def load_mapping_index(
    session: Session, context: RunContext, masters: ServiceNowMasters | None
) -> MappingIndex:
    """Read the three mapping tables; resolve the legal entity and currencies from `masters` when given."""
    index = MappingIndex()
    usable = (MappingStatus.MATCHED, MappingStatus.STAGED)
    for cc in session.exec(select(CostCenterMap).where(CostCenterMap.profile_id == context.profile_id)):
        value = cc.sn_account_number if cc.status in usable else None
        index.cost_centers[cc.zoho_key] = MappedRef(cc.zoho_name, value, cc.sn_name)
    for gl in session.exec(select(GLAccountMap).where(GLAccountMap.profile_id == context.profile_id)):
        value = gl.sn_number if gl.status in usable else None
        index.gl_accounts[gl.zoho_account_id] = MappedRef(gl.zoho_name, value, gl.sn_name)
    for sup in session.exec(select(SupplierMap).where(SupplierMap.profile_id == context.profile_id)):
        value = sup.sn_supplier_code if sup.status in usable else None
        index.suppliers[sup.zoho_vendor_id] = MappedRef(sup.zoho_name, value, sup.sn_name, sup.tax_id)
    index.legal_entity, index.legal_entity_problem = _resolve_legal_entity(context, masters)
    index.currencies = masters.currencies if masters is not None else None
    index.mapped_suppliers = _mapped_suppliers(masters, index.legal_entity)
    index.owners = masters.users if masters is not None else None
    return index


def _mapped_suppliers(masters: ServiceNowMasters | None, legal_entity: str | None) -> frozenset[str] | None:
    """The supplier codes mapped to the legal entity (`sn_fin_supplier_detail`), when the masters tell."""
    if masters is None or masters.supplier_details is None or not legal_entity:
        return None
    entities = {
        e.sys_id
        for e in masters.legal_entities
        if normalize_code(e.company_code) == normalize_code(legal_entity)
    }
    codes = {s.sys_id: s.supplier_code for s in masters.suppliers if s.supplier_code}
    return frozenset(
        normalize_code(codes[supplier])
        for supplier, entity in masters.supplier_details
        if entity in entities and supplier in codes
    )


def _resolve_legal_entity(
    context: RunContext, masters: ServiceNowMasters | None
) -> tuple[str | None, str | None]:
    wanted = context.legal_entity
    if not wanted:
        return None, "the profile names no legal entity (ERP company code)"
    if masters is None:
        return wanted, None
    for entity in masters.legal_entities:
        if normalize_code(entity.company_code) == normalize_code(wanted) or normalize_name(
            entity.name
        ) == normalize_name(wanted):
            return entity.company_code or wanted, None
    return None, f"legal entity {wanted!r} is not in ServiceNow (sn_fin_legal_entity)"
