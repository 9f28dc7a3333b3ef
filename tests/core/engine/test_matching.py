"""Matching rules and the mapping tables: code first, then normalized name; overrides win; never a guess."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import CostCenterMap, SupplierMap
from zbsn.core.domain import MappingOrigin, MappingStatus
from zbsn.core.engine.masters import (
    Dimension,
    align_cost_centers,
    align_suppliers,
    clear_override,
    set_override,
)
from zbsn.core.engine.matching import CostCenterMatcher, GLAccountMatcher, SupplierMatcher
from zbsn.core.engine.normalize import normalize_code, normalize_name
from zbsn.core.servicenow.models import SNCostCenter, SNGLAccount, SNSupplier
from zbsn.core.zoho.models import ZohoVendor

from .harness import bare_profile

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CENTERS = [
    SNCostCenter(sys_id="a", name="Consulting - London", account_number="CC-LON-100"),
    SNCostCenter(sys_id="b", name="Advisory London", account_number="CC-LON-200", code="ADV"),
    SNCostCenter(sys_id="c", name="Audit", account_number="CC-MAN-200"),
    SNCostCenter(sys_id="d", name="Audit", account_number="CC-EDI-900"),
]


def test_normalization() -> None:
    assert normalize_name("  Tax \u2013 Edinburgh ") == "tax edinburgh"
    assert normalize_name("Lumière  Conseil, SARL") == "lumiere conseil sarl"
    assert normalize_code("gb 123-456") == "GB123456"


def test_cost_center_by_code_then_by_normalized_name() -> None:
    matcher = CostCenterMatcher(CENTERS)
    by_code = matcher.match("CC-LON-200 Anything")
    assert by_code is not None
    assert (by_code.record.sys_id, by_code.rule) == ("b", "code")
    by_code_field = matcher.match("whatever", "adv")
    assert by_code_field is not None
    assert by_code_field.record.sys_id == "b"
    by_name = matcher.match("Consulting \u2013 London")
    assert by_name is not None
    assert (by_name.record.sys_id, by_name.rule) == ("a", "name")


def test_cost_center_unmatched_or_ambiguous_is_never_guessed() -> None:
    matcher = CostCenterMatcher(CENTERS)
    assert matcher.match("Technology \u2013 London") is None
    assert matcher.match("Audit") is None  # two ServiceNow cost centers carry that name


def test_gl_account_by_code_then_name() -> None:
    matcher = GLAccountMatcher(
        [
            SNGLAccount(sys_id="g1", number="6100", name="Subcontractor Fees"),
            SNGLAccount(sys_id="g2", number="6110", name="Travel"),
        ]
    )
    coded = matcher.match("Renamed in Zoho", "6100")
    named = matcher.match("travel", None)
    assert coded is not None
    assert coded.record.sys_id == "g1"
    assert named is not None
    assert named.record.sys_id == "g2"
    assert matcher.match("Legacy Project Costs", "6999") is None


def test_supplier_by_tax_id_then_name() -> None:
    matcher = SupplierMatcher(
        [
            SNSupplier(
                sys_id="s1", name="Albion Office Supplies Ltd", supplier_code="SUP-1", tax_id="GB123456789"
            ),
            SNSupplier(sys_id="s2", name="Acme^ORactive=false Supplies", supplier_code="SUP-2"),
        ]
    )
    by_tax = matcher.match("Albion (renamed)", "gb 123 456 789")
    by_name = matcher.match("ACME^ORactive=false supplies", None)
    assert by_tax is not None
    assert (by_tax.record.sys_id, by_tax.rule) == ("s1", "tax_id")
    assert by_name is not None
    assert by_name.record.sys_id == "s2"
    assert matcher.match("Unknown Ltd", "XX1") is None


def test_manual_override_wins_and_survives_alignment(sqlite_engine: sa.Engine) -> None:
    profile_id = bare_profile(sqlite_engine)
    dimension = [
        Dimension("opt-1", "Consulting \u2013 London"),
        Dimension("opt-2", "Technology \u2013 London"),
    ]
    with session_scope(sqlite_engine) as session:
        counts = align_cost_centers(session, profile_id, dimension, CENTERS, NOW)
    assert (counts.matched, counts.missing) == (1, 1)
    with session_scope(sqlite_engine) as session:
        set_override(session, profile_id, "cost_center", "opt-1", CENTERS[2], NOW)
        set_override(session, profile_id, "cost_center", "opt-2", CENTERS[1], NOW)
    with session_scope(sqlite_engine) as session:
        align_cost_centers(session, profile_id, dimension, CENTERS, NOW)
    with session_scope(sqlite_engine) as session:
        rows = {r.zoho_key: r for r in session.exec(select(CostCenterMap))}
    assert (rows["opt-1"].sn_account_number, rows["opt-1"].origin) == ("CC-MAN-200", MappingOrigin.MANUAL)
    assert (rows["opt-2"].sn_account_number, rows["opt-2"].status) == ("CC-LON-200", MappingStatus.MATCHED)
    with session_scope(sqlite_engine) as session:
        clear_override(session, profile_id, "cost_center", "opt-2", NOW)
    with session_scope(sqlite_engine) as session:
        align_cost_centers(session, profile_id, dimension, CENTERS, NOW)
    with session_scope(sqlite_engine) as session:
        row = session.exec(select(CostCenterMap).where(CostCenterMap.zoho_key == "opt-2")).one()
    assert (row.origin, row.status, row.sn_sys_id) == (MappingOrigin.AUTO, MappingStatus.MISSING, None)


def test_supplier_alignment_keeps_the_stored_link_and_lists_vendors_to_create(
    sqlite_engine: sa.Engine,
) -> None:
    profile_id = bare_profile(sqlite_engine)
    suppliers = [SNSupplier(sys_id="s1", name="Albion", supplier_code="SUP-1", tax_id="GB1")]
    vendors = [
        ZohoVendor(contact_id="v1", contact_name="Albion", tax_id_value="GB1"),
        ZohoVendor(contact_id="v2", contact_name="Brightline Couriers"),
    ]
    with session_scope(sqlite_engine) as session:
        counts = align_suppliers(session, profile_id, vendors, suppliers, NOW, allow_create=True)
    assert [v.contact_id for v in counts.to_create] == ["v2"]
    renamed = [SNSupplier(sys_id="s1", name="Albion Group plc", supplier_code="SUP-1", tax_id=None)]
    with session_scope(sqlite_engine) as session:
        again = align_suppliers(session, profile_id, vendors, renamed, NOW, allow_create=False)
    assert again.to_create == []
    with session_scope(sqlite_engine) as session:
        row = session.exec(select(SupplierMap).where(SupplierMap.zoho_vendor_id == "v1")).one()
    assert (row.status, row.sn_supplier_code, row.sn_name) == (
        MappingStatus.MATCHED,
        "SUP-1",
        "Albion Group plc",
    )
