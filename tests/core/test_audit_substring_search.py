"""Free text finds a term anywhere in a record's number, id, vendor or key, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from zbsn.core import audit_query
from zbsn.core.audit_query import AuditFilter
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, Connection, SyncProfile

VENDORS = ["Bright Cleaning Ltd", "Acme Supplies", "LTD Holdings", "Northwind 100% Office", "Globex"]


def _seed(engine: sa.Engine) -> int:
    with session_scope(engine) as session:
        zoho = Connection(kind="zoho", name="z")
        sn = Connection(kind="servicenow", name="s")
        session.add_all([zoho, sn])
        session.flush()
        profile = SyncProfile(name="p", zoho_connection_id=zoho.id or 0, servicenow_connection_id=sn.id or 0)
        session.add(profile)
        session.flush()
        start = datetime(2026, 10, 1, tzinfo=UTC)
        for i, vendor in enumerate(VENDORS):
            session.add(
                AuditRecord(
                    profile_id=profile.id or 0,
                    kind="bill",
                    zoho_id=f"46023700000000{i:04d}",
                    zoho_number=f"BILL-{i:05d}",
                    vendor_name=vendor,
                    external_key=f"ZB-1-{i}",
                    status="failed" if i % 2 else "staged",
                    updated_at=start + timedelta(minutes=i),
                )
            )
        return profile.id or 0


def _vendors(engine: sa.Engine, text: str, **filters: str) -> set[str | None]:
    return {row.vendor_name for row in audit_query.page(engine, AuditFilter(text=text, **filters)).rows}


def test_substring_in_the_middle_of_a_name(engine: sa.Engine) -> None:
    _seed(engine)
    assert _vendors(engine, "ltd") == {"Bright Cleaning Ltd", "LTD Holdings"}
    assert _vendors(engine, "CLEANING") == {"Bright Cleaning Ltd"}


def test_substring_in_numbers_ids_and_keys(engine: sa.Engine) -> None:
    _seed(engine)
    assert _vendors(engine, "00003") == {"Northwind 100% Office"}  # inside BILL-00003 and the Zoho id
    assert _vendors(engine, "ZB-1-4") == {"Globex"}


def test_like_wildcards_are_literal(engine: sa.Engine) -> None:
    _seed(engine)
    assert _vendors(engine, "100%") == {"Northwind 100% Office"}
    assert _vendors(engine, "l_d") == set()


def test_substring_combines_with_status_and_counts(engine: sa.Engine) -> None:
    _seed(engine)
    assert _vendors(engine, "ltd", status="failed") == set()
    assert _vendors(engine, "supplies", status="failed") == {"Acme Supplies"}
    assert audit_query.count(engine, AuditFilter(text="ltd")).value == 2


def test_index_follows_updates(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.update(AuditRecord).where(AuditRecord.vendor_name == "Globex").values(vendor_name="Initech")
        )
    assert _vendors(engine, "globex") == set()
    assert _vendors(engine, "initech") == {"Initech"}


def test_common_terms_walk_the_page_order(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the id cap a term is tested row by row in page order: same rows, same counts."""
    _seed(engine)
    monkeypatch.setattr(audit_query, "TEXT_ID_CAP", 1)
    assert _vendors(engine, "ltd") == {"Bright Cleaning Ltd", "LTD Holdings"}
    assert _vendors(engine, "bil", status="failed") == {"Acme Supplies", "Northwind 100% Office"}
    assert audit_query.count(engine, AuditFilter(text="ltd")).value == 2
    assert audit_query.count(engine, AuditFilter(text="ltd", status="staged")).value == 2
