"""Overrides take what an operator knows (account number, GL number, supplier code, name or sys_id).

The rules alone first (no sockets), then the facade against both sandboxes: the typed value is resolved
against ServiceNow's masters, stored as a manual mapping that survives re-alignment, and used by the next run.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zbsn.core.engine.matching import (
    COST_CENTER_TARGET,
    GL_ACCOUNT_TARGET,
    SUPPLIER_TARGET,
    AmbiguousServiceNowValue,
    UnknownServiceNowValue,
    find_override_target,
)
from zbsn.core.engine.service import EngineService, MappingRow
from zbsn.core.servicenow.models import SNCostCenter, SNGLAccount, SNSupplier

from .conftest import Sandboxes
from .harness import ClientFactories

DASH = "\u2013"  # the demo company names its cost centers "Team \u2013 City"
TECH_LONDON = f"Technology {DASH} London"  # missing in ServiceNow (CC-LON-300)
TAX_EDINBURGH = f"Tax {DASH} Edinburgh"  # missing in ServiceNow (CC-EDI-200)
CENTERS = [
    SNCostCenter(
        sys_id="a" * 32, name=f"Consulting {DASH} London", account_number="CC-LON-100", code="LON100"
    ),
    SNCostCenter(sys_id="b" * 32, name="Shared Services", account_number="CC-SHR-1"),
    SNCostCenter(sys_id="c" * 32, name="Shared Services", account_number="CC-SHR-2"),
]


# ---- the rules ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "sys_id", "rule"),
    [
        ("CC-LON-100", "a" * 32, "code"),
        (" cc lon 100 ", "a" * 32, "code"),  # case, spaces and separators do not matter
        ("LON100", "a" * 32, "code"),  # the cost center's code works as well as its account number
        ("consulting - london", "a" * 32, "name"),
        ("c" * 32, "c" * 32, "sys_id"),
        ("CC-SHR-2", "c" * 32, "code"),
    ],
)
def test_a_cost_center_by_what_the_operator_knows(typed: str, sys_id: str, rule: str) -> None:
    found = find_override_target(typed, CENTERS, COST_CENTER_TARGET)
    assert (found.record.sys_id, found.rule) == (sys_id, rule)


def test_an_ambiguous_value_names_the_candidates() -> None:
    with pytest.raises(AmbiguousServiceNowValue) as raised:
        find_override_target("Shared services", CENTERS, COST_CENTER_TARGET)
    assert "CC-SHR-1" in str(raised.value)
    assert "CC-SHR-2" in str(raised.value)
    assert "sys_id" in str(raised.value)


def test_an_unknown_value_says_what_was_searched() -> None:
    with pytest.raises(UnknownServiceNowValue) as raised:
        find_override_target("CC-NOPE-9", CENTERS, COST_CENTER_TARGET)
    message = str(raised.value)
    assert "'CC-NOPE-9'" in message
    assert "cmn_cost_center" in message
    assert "account number" in message
    with pytest.raises(UnknownServiceNowValue):
        find_override_target("  ", CENTERS, COST_CENTER_TARGET)
    assert isinstance(raised.value, LookupError)  # callers catching LookupError keep working


def test_gl_by_number_and_supplier_by_code_or_tax_id() -> None:
    ledgers = [SNGLAccount(sys_id="g1", number="6100", name="Travel"), SNGLAccount(sys_id="g2", number="61")]
    assert find_override_target("6100", ledgers, GL_ACCOUNT_TARGET).record.sys_id == "g1"
    assert find_override_target("61", ledgers, GL_ACCOUNT_TARGET).record.sys_id == "g2"
    suppliers = [SNSupplier(sys_id="s1", name="Acme", supplier_code="SUP-0001", tax_id="GB 123 456 789")]
    assert find_override_target("sup0001", suppliers, SUPPLIER_TARGET).record.sys_id == "s1"
    assert find_override_target("GB123456789", suppliers, SUPPLIER_TARGET).record.sys_id == "s1"


# ---- through the facade, against the sandboxes --------------------------------------------------------
def _service(db: sa.Engine, factories: ClientFactories) -> EngineService:
    return EngineService(db, factories.zoho, factories.servicenow)


def _row(rows: list[MappingRow], zoho_name: str) -> MappingRow:
    return next(r for r in rows if r.zoho_name == zoho_name)


async def test_override_by_account_number_maps_and_survives_alignment(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    service = _service(sqlite_engine, factories)
    before = await service.refresh_mappings(profile_id)
    missing = _row(before.cost_centers, TECH_LONDON)
    assert missing.status == "missing"
    sn = {r["account_number"]: r for r in live.servicenow.table("cmn_cost_center")}

    target = await service.set_override(profile_id, "cost_center", missing.zoho_key, "cc-lon-100")

    assert isinstance(target, SNCostCenter)
    assert target.sys_id == sn["CC-LON-100"]["sys_id"]
    after = _row((await service.refresh_mappings(profile_id)).cost_centers, TECH_LONDON)
    assert (after.status, after.origin, after.sn_value) == ("matched", "manual", "CC-LON-100")
    assert after.sn_sys_id == sn["CC-LON-100"]["sys_id"]


async def test_override_gl_by_number_and_supplier_by_code(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    service = _service(sqlite_engine, factories)
    mappings = await service.refresh_mappings(profile_id)
    ledger = live.servicenow.table("sn_fin_gl_account")[0]
    gl_row = mappings.gl_accounts[-1]
    await service.set_override(profile_id, "gl_account", gl_row.zoho_key, ledger["number"])
    supplier = live.servicenow.table("sn_fin_supplier")[0]
    vendor_row = mappings.suppliers[-1]
    await service.set_override(profile_id, "supplier", vendor_row.zoho_key, supplier["erp_supplier_code"])

    stored = service.mappings(profile_id)
    gl = next(r for r in stored.gl_accounts if r.zoho_key == gl_row.zoho_key)
    sup = next(r for r in stored.suppliers if r.zoho_key == vendor_row.zoho_key)
    assert (gl.origin, gl.sn_sys_id, gl.sn_value) == ("manual", ledger["sys_id"], ledger["number"])
    assert (sup.origin, sup.sn_sys_id) == ("manual", supplier["sys_id"])
    assert sup.sn_value == supplier["erp_supplier_code"]


async def test_a_sys_id_still_works(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    service = _service(sqlite_engine, factories)
    row = _row((await service.refresh_mappings(profile_id)).cost_centers, TAX_EDINBURGH)
    center = next(r for r in live.servicenow.table("cmn_cost_center") if r["account_number"] == "CC-EDI-100")
    await service.set_override(profile_id, "cost_center", row.zoho_key, center["sys_id"])
    stored = _row(service.mappings(profile_id).cost_centers, TAX_EDINBURGH)
    assert (stored.sn_value, stored.origin) == ("CC-EDI-100", "manual")


async def test_unknown_and_ambiguous_values_change_nothing(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    service = _service(sqlite_engine, factories)
    row = _row((await service.refresh_mappings(profile_id)).cost_centers, TECH_LONDON)
    with pytest.raises(UnknownServiceNowValue, match="CC-LON-300"):
        await service.set_override(profile_id, "cost_center", row.zoho_key, "CC-LON-300")  # not created yet
    live.servicenow.create_cost_center("CC-DUP-1", "Shared Services")
    live.servicenow.create_cost_center("CC-DUP-2", "Shared Services")
    with pytest.raises(AmbiguousServiceNowValue, match="CC-DUP-1"):
        await service.set_override(profile_id, "cost_center", row.zoho_key, "shared services")
    with pytest.raises(KeyError, match="no-such-option"):
        await service.set_override(profile_id, "cost_center", "no-such-option", "CC-DUP-1")
    stored = _row(service.mappings(profile_id).cost_centers, TECH_LONDON)
    assert (stored.status, stored.origin, stored.sn_sys_id) == ("missing", "auto", None)


async def test_the_next_run_uses_the_override(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    service = _service(sqlite_engine, factories)
    mappings = await service.refresh_mappings(profile_id)
    for name, number in ((TECH_LONDON, "CC-LON-100"), (TAX_EDINBURGH, "CC-EDI-100")):
        await service.set_override(
            profile_id, "cost_center", _row(mappings.cost_centers, name).zoho_key, number
        )
    await service.run(profile_id, mode="full")
    blocked = [
        r for r in service.mappings(profile_id).cost_centers if r.status == "missing" or r.blocked_bills
    ]
    assert blocked == []
    numbers = {r["sys_id"]: r["account_number"] for r in live.servicenow.table("cmn_cost_center")}
    used = {numbers[line["cost_center"]] for line in live.servicenow.table("sn_shop_invoice_line")}
    assert {"CC-LON-300", "CC-EDI-200"}.isdisjoint(used)
    assert {"CC-LON-100", "CC-EDI-100"} <= used
