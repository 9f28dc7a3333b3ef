"""Fast, direct population of an audit log for tests and screenshots (no engine, no HTTP)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from zbsn.core.db.models import (
    AuditAttempt,
    AuditRecord,
    Connection,
    CostCenterMap,
    GLAccountMap,
    ServiceNowStatusChange,
    ServiceNowStatusRecord,
    SupplierMap,
    SyncProfile,
    SyncRun,
)

T0 = datetime(2025, 3, 31, 17, 0, tzinfo=UTC)
VENDORS = ("Acme Office Supply", "Bright Cleaning Ltd", "Contoso Travel", "Delta Couriers", "Evergreen IT")
KINDS = ("bill", "bill", "payment", "supplier")


@dataclass(frozen=True)
class Seeded:
    profile_id: int
    run_ids: list[int]


def _table(model: type) -> sa.Table:
    return sa.inspect(model).local_table


def seed_profile(engine: sa.Engine) -> int:
    """Two connections and one sync profile; returns the profile id."""
    with engine.begin() as conn:
        zoho = conn.execute(
            sa.insert(_table(Connection)).values(
                kind="zoho",
                name="Northwind Zoho",
                state="connected",
                dc="eu",
                accounts_server="https://accounts.zoho.eu",
                organization_id="20099",
                organization_name="Northwind Advisory",
                created_at=T0,
                updated_at=T0,
            )
        ).inserted_primary_key[0]
        sn = conn.execute(
            sa.insert(_table(Connection)).values(
                kind="servicenow",
                name="Northwind ServiceNow",
                state="connected",
                instance_url="https://northwind.service-now.com",
                created_at=T0,
                updated_at=T0,
            )
        ).inserted_primary_key[0]
        return int(
            conn.execute(
                sa.insert(_table(SyncProfile)).values(
                    name="Northwind",
                    zoho_connection_id=zoho,
                    servicenow_connection_id=sn,
                    created_at=T0,
                    cost_center_source="reporting_tag",
                    cost_center_tag_name="Cost Center",
                    allow_supplier_create=False,
                    erp_source="Zoho Books",
                    overlap_seconds=300,
                    full_sweep_hours=24,
                    enabled=True,
                )
            ).inserted_primary_key[0]
        )


def seed_audit(engine: sa.Engine, records: int = 30, runs: int = 2, failed_every: int = 5) -> Seeded:
    """`records` audit rows over `runs` runs, one minute apart (newest at T0), every n-th one failed."""
    profile_id = seed_profile(engine)
    with engine.begin() as conn:
        run_ids = []
        for r in range(runs):
            started = T0 - timedelta(hours=runs - r)
            run_ids.append(
                int(
                    conn.execute(
                        sa.insert(_table(SyncRun)).values(
                            profile_id=profile_id,
                            trigger="manual",
                            mode="full" if r == 0 else "changed",
                            status="completed_with_failures",
                            started_at=started,
                            finished_at=started + timedelta(minutes=4),
                            staged=records // runs,
                            failed=records // runs // failed_every,
                        )
                    ).inserted_primary_key[0]
                )
            )
        rows = []
        for i in range(records):
            failed = failed_every and i % failed_every == 0
            kind = KINDS[i % len(KINDS)]
            vendor = VENDORS[i % len(VENDORS)]
            number = f"BILL-{i:05d}" if kind == "bill" else f"{kind[:3].upper()}-{i:05d}"
            updated = T0 - timedelta(minutes=i)
            source = {
                "bill_id": f"460000000{i:05d}",
                "bill_number": number,
                "vendor_name": vendor,
                "total": f"{100 + i}.50",
                "line_items": [{"account_name": "Travel", "amount": "100.50"}],
            }
            rows.append(
                {
                    "profile_id": profile_id,
                    "run_id": run_ids[i % runs],
                    "kind": kind,
                    "zoho_id": f"460000000{i:05d}",
                    "zoho_number": number,
                    "vendor_name": vendor,
                    "amount": Decimal(f"{100 + i}.50"),
                    "currency": "GBP",
                    "doc_date": (datetime(2025, 3, 28) - timedelta(days=i)).strftime("%Y-%m-%d"),
                    "external_key": f"ZB-20099-{kind}-460000000{i:05d}",
                    "source_payload": json.dumps(source),
                    "mapped_payload": json.dumps({"u_invoice_number": number, "u_supplier": vendor}),
                    "status": "failed" if failed else "staged",
                    "error_code": "UNMAPPED_COST_CENTER" if failed else None,
                    "error_message": "Cost center 'Marketing - Lisbon' has no ServiceNow match"
                    if failed
                    else None,
                    "staging_status": "error" if failed else "inserted",
                    "sn_sys_id": None if failed else f"{i:032x}",
                    "attempts": 2 if failed else 1,
                    "created_at": updated,
                    "updated_at": updated,
                }
            )
        conn.execute(sa.insert(_table(AuditRecord)), rows)
        ids = conn.execute(sa.select(_table(AuditRecord).c.id, _table(AuditRecord).c.status)).all()
        attempts = []
        for audit_id, status in ids:
            for n in range(1, (2 if status == "failed" else 1) + 1):
                attempts.append(
                    {
                        "audit_id": audit_id,
                        "run_id": run_ids[0],
                        "attempt_no": n,
                        "started_at": T0 - timedelta(minutes=10 - n),
                        "finished_at": T0 - timedelta(minutes=10 - n, seconds=-1),
                        "status": status,
                        "error_code": "UNMAPPED_COST_CENTER" if status == "failed" else None,
                        "error_message": "no match" if status == "failed" else None,
                        "staging_status": "error" if status == "failed" else "inserted",
                    }
                )
        conn.execute(sa.insert(_table(AuditAttempt)), attempts)
    return Seeded(profile_id=profile_id, run_ids=run_ids)


def seed_mappings(engine: sa.Engine, profile_id: int) -> None:
    """A handful of cost-center, GL and supplier mappings, two cost centers missing."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_table(CostCenterMap)),
            [
                {
                    "profile_id": profile_id,
                    "zoho_key": "cc1",
                    "zoho_name": "Finance - London",
                    "sn_account_number": "CC-100",
                    "sn_name": "Finance London",
                    "status": "matched",
                    "updated_at": T0,
                },
                {
                    "profile_id": profile_id,
                    "zoho_key": "cc2",
                    "zoho_name": "Marketing - Lisbon",
                    "status": "missing",
                    "updated_at": T0,
                },
                {
                    "profile_id": profile_id,
                    "zoho_key": "cc3",
                    "zoho_name": "Research - Berlin",
                    "status": "missing",
                    "updated_at": T0,
                },
            ],
        )
        conn.execute(
            sa.insert(_table(GLAccountMap)),
            [
                {
                    "profile_id": profile_id,
                    "zoho_account_id": "a1",
                    "zoho_code": "6100",
                    "zoho_name": "Travel",
                    "sn_number": "6100",
                    "sn_name": "Travel",
                    "status": "matched",
                    "updated_at": T0,
                }
            ],
        )
        conn.execute(
            sa.insert(_table(SupplierMap)),
            [
                {
                    "profile_id": profile_id,
                    "zoho_vendor_id": "v1",
                    "zoho_name": "Acme Office Supply",
                    "sn_supplier_code": "SUP-1",
                    "sn_name": "Acme Office Supply",
                    "status": "matched",
                    "updated_at": T0,
                }
            ],
        )


SN_ROTATION = ("pending_approval", "exceptions_found", "posted", "paid", "approved", "draft")
SN_SUMMARIES = {
    "pending_approval": "No open exceptions: waiting for approval in ServiceNow.",
    "exceptions_found": "Waiting for the AP team in ServiceNow: Invalid or blocked supplier.",
    "posted": "Posted to the ERP as {bill} on 2025-03-20; waiting for payment.",
    "paid": "Paid.",
    "approved": "Approved; waiting to be posted to the ERP.",
    "draft": "Imported into ServiceNow; its invoice processing has not checked it yet.",
}


def seed_servicenow_statuses(engine: sa.Engine, profile_id: int) -> int:
    """Give every staged bill a ServiceNow status (rotating through the lifecycle) with its history, as
    status refreshes would have; returns how many. Exceptions carry their definition and description."""
    records = _table(AuditRecord)
    statuses = sa.inspect(ServiceNowStatusRecord).local_table
    changes = sa.inspect(ServiceNowStatusChange).local_table
    with engine.begin() as conn:
        bills = conn.execute(
            sa.select(records.c.id, records.c.zoho_id, records.c.sn_sys_id)
            .where(records.c.kind == "bill", records.c.status == "staged", records.c.profile_id == profile_id)
            .order_by(records.c.id)
        ).all()
        rows, history = [], []
        for n, (audit_id, zoho_id, sys_id) in enumerate(bills):
            status = SN_ROTATION[n % len(SN_ROTATION)]
            checked = T0 + timedelta(minutes=5)
            exceptions = (
                [
                    {
                        "level": "header",
                        "definition": "Invalid or blocked supplier",
                        "description": "No supplier legal entity mapping for Acme Office Supply and "
                        "Northwind Advisory Ltd.",
                        "line": None,
                        "number": f"APEX{n:07d}",
                    }
                ]
                if status == "exceptions_found"
                else []
            )
            rows.append(
                {
                    "audit_id": audit_id,
                    "profile_id": profile_id,
                    "invoice_sys_id": sys_id or f"{audit_id:032x}",
                    "status": status,
                    "state": {"posted": "pending_payment"}.get(status, status),
                    "number": f"INV{1000 + n:07d}",
                    "erp_number": zoho_id if status in ("posted", "paid") else None,
                    "erp_posting_date": "2025-03-20" if status in ("posted", "paid") else None,
                    "currency": "GBP",
                    "exceptions": json.dumps(exceptions) if exceptions else None,
                    "outbound_status": "processed" if status in ("posted", "paid") else None,
                    "replay_fixes": False,
                    "summary": SN_SUMMARIES[status].format(bill=zoho_id),
                    "checked_at": checked,
                    "changed_at": checked,
                }
            )
            history.append(
                {
                    "audit_id": audit_id,
                    "at": T0 + timedelta(minutes=1),
                    "from_status": None,
                    "to_status": "draft",
                    "why": SN_SUMMARIES["draft"],
                }
            )
            if status != "draft":
                history.append(
                    {
                        "audit_id": audit_id,
                        "at": checked,
                        "from_status": "draft",
                        "to_status": status,
                        "why": SN_SUMMARIES[status].format(bill=zoho_id),
                    }
                )
            conn.execute(records.update().where(records.c.id == audit_id).values(sn_status=status))
        if rows:
            conn.execute(sa.insert(statuses), rows)
            conn.execute(sa.insert(changes), history)
    return len(bills)
