"""References resolve within the profile's legal entity and ERP source (issue 16, item 2): an instance
that serves another legal entity holds its cost centers and GL accounts too, and a Zoho value named or coded
like one of them must not be mapped to it (the invoice would be coded to a cost center its entity cannot
post to)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zbsn.core.engine.master_scope import in_scope, profile_entity
from zbsn.core.engine.matching import UnknownServiceNowValue
from zbsn.core.engine.service import EngineService
from zbsn.core.servicenow.models import SNCostCenter, SNLegalEntity

from .conftest import Sandboxes, company
from .harness import ClientFactories, create_profile

OURS = SNLegalEntity(sys_id="le-1", name="Northwind UK", company_code="NWA-UK", erp_source="erp-zoho")


def center(sys_id: str, legal_entity: str | None, erp_source: str | None) -> SNCostCenter:
    return SNCostCenter(sys_id=sys_id, name="Consulting", legal_entity=legal_entity, erp_source=erp_source)


def test_the_profiles_own_shared_and_unscoped_records_are_kept() -> None:
    records = [
        center("own", "le-1", "erp-zoho"),
        center("shared", None, None),
        center("own-entity-any-source", "le-1", None),
        center("other-entity", "le-2", "erp-zoho"),
        center("other-erp", "le-1", "erp-sap"),
    ]
    kept = [r.sys_id for r in in_scope(records, OURS)]
    assert kept == ["own", "shared", "own-entity-any-source"]
    assert [r.sys_id for r in in_scope(records, None)] == [r.sys_id for r in records]  # no entity: no scope


def test_the_profile_entity_is_found_by_company_code() -> None:
    other = SNLegalEntity(sys_id="le-2", name="Northwind DE", company_code="NWA-DE")
    assert profile_entity([other, OURS], "nwa-uk") == OURS
    assert profile_entity([other, OURS], "NWA-FR") is None
    assert profile_entity([other, OURS], None) is None


async def test_another_entitys_cost_center_and_gl_account_are_never_matched(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    seeded = company()
    missing_center = next(c for c in seeded.cost_centers if not c.exists_in_servicenow)
    missing_account = next(a for a in seeded.accounts if a.code == "6600")  # ours is removed below
    db = live.servicenow.db
    with db.lock:
        ours = next(r for r in live.servicenow.table("sn_fin_gl_account") if r["number"] == "6600")
        db.delete("sn_fin_gl_account", ours["sys_id"])
        other_erp = db.insert("sn_fin_erp_source", {"name": "SAP S/4HANA", "active": "true"})["sys_id"]
        other = db.insert(
            "sn_fin_legal_entity",
            {"name": "Northwind DE", "erp_company_code": "NWA-DE", "erp_source": other_erp},
        )["sys_id"]
        # the other entity's records carry the very name and numbers the missing ones of ours would
        db.insert(
            "cmn_cost_center",
            {
                "name": missing_center.name,
                "account_number": missing_center.account_number,
                "code": missing_center.account_number,
                "legal_entity": other,
                "erp_source": other_erp,
                "active": "true",
            },
        )
        db.insert(
            "sn_fin_gl_account",
            {"number": missing_account.code, "name": missing_account.name, "legal_entity": other,
             "erp_source": other_erp, "active": "true"},
        )  # fmt: skip

    profile_id = create_profile(sqlite_engine, live.endpoints)
    service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    mappings = await service.refresh_mappings(profile_id)
    centers = {m.zoho_name: m for m in mappings.cost_centers}
    accounts = {m.zoho_name: m for m in mappings.gl_accounts}
    assert (centers[missing_center.name].status, centers[missing_center.name].sn_value) == ("missing", None)
    assert (accounts[missing_account.name].status, accounts[missing_account.name].sn_value) == (
        "missing",
        None,
    )
    matched = [m for m in mappings.cost_centers if m.status == "matched"]
    assert len(matched) == sum(1 for c in seeded.cost_centers if c.exists_in_servicenow)

    # nor can the operator map one to it by hand: the other entity's number is not among the profile's
    with pytest.raises(UnknownServiceNowValue):
        await service.set_override(
            profile_id, "cost_center", centers[missing_center.name].zoho_key, missing_center.account_number
        )


async def test_optional_masters_the_integration_user_may_not_read_are_worked_around(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    """Currencies, supplier mappings and users denied by ACL (403): the run goes on (currencies checked by
    shape, mappings and owners unverified) instead of failing."""
    for table in ("fx_currency", "sn_fin_supplier_detail", "sys_user"):
        live.servicenow.set_acl(table, {"read"})
    try:
        profile_id = create_profile(sqlite_engine, live.endpoints)
        summary = await EngineService(sqlite_engine, factories.zoho, factories.servicenow).run(profile_id)
    finally:
        for table in ("fx_currency", "sn_fin_supplier_detail", "sys_user"):
            live.servicenow.set_acl(table, set())
    assert summary.status == "completed_with_failures", summary.message  # the seeded company's failures
    assert summary.staged > 0
