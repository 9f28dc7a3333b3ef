"""Keep the three mapping tables aligned with both systems, and let an operator override a mapping.

Rules: a manual override (origin=manual) always wins and is never touched by auto-matching; an auto row is
re-matched on every alignment (so a cost center created in ServiceNow since is picked up); an unmatched
entry is stored `missing`, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import CostCenterMap, GLAccountMap, SupplierMap
from zbsn.core.db.transient import retried
from zbsn.core.domain import AuditStatus, MappingOrigin, MappingStatus, RecordKind
from zbsn.core.engine.audit_writer import Completion
from zbsn.core.engine.business_owner import read_users
from zbsn.core.engine.master_scope import in_scope, profile_entity
from zbsn.core.engine.matching import CostCenterMatcher, GLAccountMatcher, SupplierMatcher
from zbsn.core.engine.ports import RunContext, ServiceNowTarget, ZohoSource
from zbsn.core.servicenow.errors import ServiceNowAPIError, refused_read
from zbsn.core.servicenow.models import SNCostCenter, SNGLAccount, SNLegalEntity, SNSupplier
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.zoho.models import RecordError, ZohoAccount, ZohoVendor

MappingKind = Literal["cost_center", "gl_account", "supplier"]
SUPPLIER_DETAIL_TABLE = "sn_fin_supplier_detail"  # the supplier <-> legal entity mapping (sn-ref §7.1)
# Zoho account types that never appear on a bill's expense lines: not worth a mapping row.
NON_LINE_ACCOUNT_TYPES = frozenset(
    {
        "accounts_payable",
        "accounts_receivable",
        "bank",
        "cash",
        "equity",
        "income",
        "other_income",
        "finance_income",
        "other_comprehensive_income",
        "credit_card",
    }
)


@dataclass(frozen=True, slots=True)
class Dimension:
    """One Zoho cost-center value: a reporting-tag option or a location."""

    key: str
    name: str
    active: bool = True


@dataclass(slots=True)
class ServiceNowMasters:
    """ServiceNow master data read once per run."""

    cost_centers: list[SNCostCenter]
    gl_accounts: list[SNGLAccount]
    suppliers: list[SNSupplier]
    legal_entities: list[SNLegalEntity]
    currencies: frozenset[str] | None = None  # None: the instance did not tell; only the ISO shape is checked
    # (supplier sys_id, legal entity sys_id) of every sn_fin_supplier_detail row; None: not readable
    supplier_details: frozenset[tuple[str, str]] | None = None
    # configured business owner (owner_key) -> the value staged (None: no active user); None: not read
    users: dict[str, str | None] | None = None


@dataclass(slots=True)
class AlignCounts:
    matched: int = 0
    missing: int = 0
    manual: int = 0
    staged: int = 0
    to_create: list[ZohoVendor] = field(default_factory=list)  # vendors to stage as suppliers


async def fetch_servicenow_masters(
    target: ServiceNowTarget, users: Sequence[str] = (), legal_entity: str | None = None
) -> ServiceNowMasters:
    """Read cost centers and GL accounts (those of the profile's `legal_entity` and its ERP source, see
    master_scope.py), suppliers, legal entities and (when readable) the supplier legal entity mappings, the
    profile's business owners (`users`) and active currencies."""
    legal_entities = await target.list_legal_entities()
    entity = profile_entity(legal_entities, legal_entity)
    masters = ServiceNowMasters(
        cost_centers=in_scope(await target.list_cost_centers(), entity),
        gl_accounts=in_scope(await target.list_gl_accounts(), entity),
        suppliers=await target.list_suppliers(),
        legal_entities=legal_entities,
    )
    masters.supplier_details = await _supplier_details(target)
    masters.users = await read_users(target, users)
    try:
        rows = await target.get_records("fx_currency", EncodedQuery(), ["code"], None)
    except ServiceNowAPIError as exc:  # no read access to currencies: fall back to the ISO-shape check
        if not refused_read(exc):
            raise
        return masters
    codes = frozenset(str(row.get("code", "")).upper() for row in rows if row.get("code"))
    masters.currencies = codes or None
    return masters


async def _supplier_details(target: ServiceNowTarget) -> frozenset[tuple[str, str]] | None:
    """The supplier <-> legal entity mappings (`sn_fin_supplier_detail`), or None when unreadable."""
    try:
        rows = await target.get_records(
            SUPPLIER_DETAIL_TABLE, EncodedQuery(), ["supplier", "legal_entity"], None
        )
    except ServiceNowAPIError as exc:  # no read access: the preview cannot tell which lack a mapping
        if not refused_read(exc):
            raise
        return None
    return frozenset(
        (str(row.get("supplier") or ""), str(row.get("legal_entity") or ""))
        for row in rows
        if row.get("supplier") and row.get("legal_entity")
    )


async def fetch_cost_center_dimension(source: ZohoSource, context: RunContext) -> list[Dimension]:
    """The org's cost-center values: options of the configured reporting tag, or its locations."""
    if context.cost_center_source == "location":
        locations = [loc for loc in await source.list_locations() if not isinstance(loc, RecordError)]
        return [Dimension(loc.location_id, loc.location_name, loc.status == "active") for loc in locations]
    wanted = context.cost_center_tag_name.casefold().strip()
    for tag in await source.list_reporting_tags():
        if not isinstance(tag, RecordError) and tag.tag_name.casefold().strip() == wanted:
            return [Dimension(o.tag_option_id, o.tag_option_name, o.is_active) for o in tag.tag_options]
    return []


async def fetch_vendors(source: ZohoSource) -> tuple[list[ZohoVendor], list[RecordError]]:
    """Every vendor contact, and the ones Zoho sent that could not be read."""
    vendors: list[ZohoVendor] = []
    errors: list[RecordError] = []
    async for item in source.iter_vendors():
        (errors if isinstance(item, RecordError) else vendors).append(item)  # type: ignore[arg-type]
    return vendors, errors


def align_cost_centers(
    session: Session,
    profile_id: int,
    dimension: Iterable[Dimension],
    cost_centers: Sequence[SNCostCenter],
    now: datetime,
) -> AlignCounts:
    """Upsert a CostCenterMap row per Zoho value and re-match the auto ones."""
    matcher = CostCenterMatcher(cost_centers)
    by_sys_id = {cc.sys_id: cc for cc in cost_centers}
    rows = {
        r.zoho_key: r
        for r in session.exec(select(CostCenterMap).where(CostCenterMap.profile_id == profile_id))
    }
    counts = AlignCounts()
    for value in dimension:
        row = rows.get(value.key) or CostCenterMap(
            profile_id=profile_id, zoho_key=value.key, zoho_name=value.name
        )
        row.zoho_name = value.name
        if row.origin == MappingOrigin.MANUAL:
            target = by_sys_id.get(row.sn_sys_id or "")
        else:
            match = matcher.match(value.name)
            target = match.record if match else None
        _settle(row, target, target.account_number if target else None, "sn_account_number", counts)
        row.updated_at = now
        session.add(row)
    return counts


def _settle(
    row: CostCenterMap | GLAccountMap,
    target: SNCostCenter | SNGLAccount | None,
    number: str | None,
    number_field: str,
    counts: AlignCounts,
) -> None:
    """Write one alignment outcome onto a mapping row.

    A manual row keeps its choice and only refreshes the ServiceNow number and name when its record still
    exists; an auto row takes the match (or nothing, and is then missing, never guessed).
    """
    if row.origin == MappingOrigin.MANUAL:
        counts.manual += 1
        if target is not None:
            setattr(row, number_field, number)
            row.sn_name = target.name
        return
    row.sn_sys_id = target.sys_id if target else None
    setattr(row, number_field, number)
    row.sn_name = target.name if target else None
    row.status = MappingStatus.MATCHED if target else MappingStatus.MISSING
    counts.matched += target is not None
    counts.missing += target is None


def align_gl_accounts(
    session: Session,
    profile_id: int,
    accounts: Iterable[ZohoAccount],
    gl_accounts: Sequence[SNGLAccount],
    now: datetime,
) -> AlignCounts:
    """Upsert a GLAccountMap row per Zoho line account and re-match the auto ones."""
    matcher = GLAccountMatcher(gl_accounts)
    by_sys_id = {gl.sys_id: gl for gl in gl_accounts}
    query = select(GLAccountMap).where(GLAccountMap.profile_id == profile_id)
    rows = {r.zoho_account_id: r for r in session.exec(query)}
    counts = AlignCounts()
    for account in accounts:
        if account.account_type in NON_LINE_ACCOUNT_TYPES:
            continue
        row = rows.get(account.account_id) or GLAccountMap(
            profile_id=profile_id, zoho_account_id=account.account_id, zoho_name=account.account_name
        )
        row.zoho_name, row.zoho_code = account.account_name, account.account_code
        if row.origin == MappingOrigin.MANUAL:
            target = by_sys_id.get(row.sn_sys_id or "")
        else:
            match = matcher.match(account.account_name, account.account_code)
            target = match.record if match else None
        _settle(row, target, target.number if target else None, "sn_number", counts)
        row.updated_at = now
        session.add(row)
    return counts


def align_suppliers(
    session: Session,
    profile_id: int,
    vendors: Iterable[ZohoVendor],
    suppliers: Sequence[SNSupplier],
    now: datetime,
    *,
    allow_create: bool,
) -> AlignCounts:
    """Upsert a SupplierMap row per vendor: stored link, tax id, then name; list the vendors to create."""
    matcher = SupplierMatcher(suppliers)
    rows = {
        r.zoho_vendor_id: r
        for r in session.exec(select(SupplierMap).where(SupplierMap.profile_id == profile_id))
    }
    counts = AlignCounts()
    for vendor in vendors:
        row = rows.get(vendor.contact_id) or SupplierMap(
            profile_id=profile_id, zoho_vendor_id=vendor.contact_id, zoho_name=vendor.contact_name
        )
        row.zoho_name, row.tax_id = vendor.contact_name, vendor.tax_id
        linked = matcher.by_sys_id.get(row.sn_sys_id or "")
        if row.origin == MappingOrigin.MANUAL:
            counts.manual += 1
            if linked is not None:
                row.sn_supplier_code, row.sn_name = linked.supplier_code, linked.name
        elif linked is not None:
            row.sn_supplier_code, row.sn_name, row.status = (
                linked.supplier_code,
                linked.name,
                MappingStatus.MATCHED,
            )
            counts.matched += 1
        elif row.status == MappingStatus.STAGED and row.sn_supplier_code:
            counts.staged += 1  # staged as a new supplier; waits for the supplier to appear
        else:
            match = matcher.match(vendor.contact_name, vendor.tax_id)
            found = match.record if match else None
            row.sn_sys_id = found.sys_id if found else None
            row.sn_supplier_code = found.supplier_code if found else None
            row.sn_name = found.name if found else None
            row.status = MappingStatus.MATCHED if found else MappingStatus.MISSING
            counts.matched += bool(found)
            counts.missing += not found
            if not found and allow_create and vendor.status == "active":
                counts.to_create.append(vendor)
        row.updated_at = now
        session.add(row)
    return counts


def set_override(
    session: Session,
    profile_id: int,
    kind: MappingKind,
    zoho_key: str,
    target: SNCostCenter | SNGLAccount | SNSupplier,
    now: datetime,
) -> None:
    """Map one Zoho value to a ServiceNow record by hand; auto-matching never overwrites it."""
    if kind == "cost_center" and isinstance(target, SNCostCenter):
        cc = _one(session, CostCenterMap, profile_id, zoho_key)
        cc.sn_sys_id, cc.sn_account_number, cc.sn_name = target.sys_id, target.account_number, target.name
        row: CostCenterMap | GLAccountMap | SupplierMap = cc
    elif kind == "gl_account" and isinstance(target, SNGLAccount):
        gl = _one(session, GLAccountMap, profile_id, zoho_key)
        gl.sn_sys_id, gl.sn_number, gl.sn_name = target.sys_id, target.number, target.name
        row = gl
    elif kind == "supplier" and isinstance(target, SNSupplier):
        sup = _one(session, SupplierMap, profile_id, zoho_key)
        sup.sn_sys_id, sup.sn_supplier_code, sup.sn_name = target.sys_id, target.supplier_code, target.name
        row = sup
    else:
        raise ValueError(f"a {type(target).__name__} cannot be the target of a {kind} mapping")
    row.origin, row.status, row.updated_at = MappingOrigin.MANUAL, MappingStatus.MATCHED, now
    session.add(row)


def clear_override(
    session: Session, profile_id: int, kind: MappingKind, zoho_key: str, now: datetime
) -> None:
    """Drop a manual override: the row goes back to auto and is re-matched at the next alignment."""
    row: CostCenterMap | GLAccountMap | SupplierMap
    if kind == "cost_center":
        row = cc = _one(session, CostCenterMap, profile_id, zoho_key)
        cc.sn_account_number = None
    elif kind == "gl_account":
        row = gl = _one(session, GLAccountMap, profile_id, zoho_key)
        gl.sn_number = None
    else:
        row = sup = _one(session, SupplierMap, profile_id, zoho_key)
        sup.sn_supplier_code = None
    row.origin, row.status, row.sn_sys_id, row.sn_name = MappingOrigin.AUTO, MappingStatus.MISSING, None, None
    row.updated_at = now
    session.add(row)


_M = TypeVar("_M", CostCenterMap, GLAccountMap, SupplierMap)


def find_mapping(
    session: Session, profile_id: int, kind: MappingKind, zoho_key: str
) -> CostCenterMap | GLAccountMap | SupplierMap:
    """The mapping row of one Zoho value; KeyError (saying which) when the profile has none."""
    if kind == "cost_center":
        return _one(session, CostCenterMap, profile_id, zoho_key)
    if kind == "gl_account":
        return _one(session, GLAccountMap, profile_id, zoho_key)
    if kind == "supplier":
        return _one(session, SupplierMap, profile_id, zoho_key)
    raise ValueError(f"unknown mapping kind {kind!r} (cost_center, gl_account or supplier)")


def _one(session: Session, model: type[_M], profile_id: int, zoho_key: str) -> _M:
    key_column = {
        CostCenterMap: CostCenterMap.zoho_key,
        GLAccountMap: GLAccountMap.zoho_account_id,
        SupplierMap: SupplierMap.zoho_vendor_id,
    }[model]
    row = session.exec(select(model).where(model.profile_id == profile_id, key_column == zoho_key)).first()
    if row is None:
        raise KeyError(f"no {model.__tablename__} row for Zoho key {zoho_key!r} in profile {profile_id}")
    return row


@retried
def record_created_suppliers(
    db: sa.Engine, profile_id: int, completions: Sequence[Completion], now: datetime
) -> None:
    """Mark the vendors just staged as new suppliers `staged`, with the supplier code they were sent with."""
    created = [
        c
        for c in completions
        if c.ticket.entry.kind == RecordKind.SUPPLIER and c.status == AuditStatus.STAGED
    ]
    if not created:
        return
    with session_scope(db) as session:
        for done in created:
            row = session.exec(
                select(SupplierMap).where(
                    SupplierMap.profile_id == profile_id,
                    SupplierMap.zoho_vendor_id == done.ticket.entry.zoho_id,
                )
            ).first()
            if row is None:
                continue
            row.status = MappingStatus.STAGED
            row.sn_supplier_code = done.ticket.entry.rows[0].values.get("u_erp_supplier_code")
            row.sn_sys_id = done.sn_sys_id or row.sn_sys_id
            row.sn_name = row.zoho_name
            row.updated_at = now
            session.add(row)
