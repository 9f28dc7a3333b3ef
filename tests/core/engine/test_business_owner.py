"""The business owner per profile, with overrides per cost center, resolved against ServiceNow's users:
the header names the user's email; an unknown or inactive user fails the bill with the reason (never an
invoice in "Missing or invalid business owner"); none configured, the preview warns and an instance whose
definition is active raises the exception."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, SyncProfile
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.business_owner import (
    bill_owner,
    dump_owner_overrides,
    parse_owner_overrides,
    read_users,
)
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.core.engine.transform import LinePreview, bill_to_invoice
from zbsn.core.servicenow.errors import ServiceNowAPIError
from zbsn.core.servicenow.query import EncodedQuery

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile
from .test_transform import CONTEXT, bill, index

OWNER_EXCEPTION = "Missing or invalid business owner"


def line(amount: str, name: str | None, number: str | None) -> LinePreview:
    return LinePreview("L", None, Decimal(amount), Decimal(0), name, number, None, None)


def test_the_cost_center_with_the_largest_share_names_the_owner_else_the_profile() -> None:
    overrides = (("Advisory - London", "priya"), ("CC-LON-100", "chris"))
    lines = [line("10", "Advisory - London", "CC-LON-200"), line("30", "Consulting", "CC-LON-100")]
    assert bill_owner(lines, "alex", overrides) == ("chris", "cost center CC-LON-100")  # by account number
    lines.append(line("25", "advisory - london", None))  # by Zoho name, case-insensitively: 35 > 30
    assert bill_owner(lines, "alex", overrides) == ("priya", "cost center Advisory - London")
    assert bill_owner([line("5", "Other", "CC-X")], "alex", overrides) == ("alex", "the profile")
    assert bill_owner([], None, ()) == (None, "the profile")
    assert parse_owner_overrides(dump_owner_overrides({" CC-1 ": " a@x ", "": "b"})) == (("CC-1", "a@x"),)


def test_the_header_names_the_resolved_user_and_an_unknown_one_fails_the_bill() -> None:
    owned = dataclasses.replace(CONTEXT, business_owner="Alex.Morgan")
    users = {"alex.morgan": "alex.morgan@example.com", "sam.former": None}
    document = bill_to_invoice(bill(), owned, index(owners=users))
    assert document.ok
    assert document.rows[0].values["u_business_owner"] == "alex.morgan@example.com"
    assert document.business_owner == "alex.morgan@example.com"
    assert any("business owner alex.morgan@example.com (from the profile)" in n for n in document.notes)

    for unknown in ("sam.former", "nobody@example.com"):
        failed = bill_to_invoice(
            bill(), dataclasses.replace(CONTEXT, business_owner=unknown), index(owners=users)
        )
        assert not failed.ok
        assert failed.rows == []
        (problem,) = failed.problems
        assert problem.code == ErrorCode.UNKNOWN_BUSINESS_OWNER
        assert unknown in problem.message
        assert "not an active ServiceNow user" in problem.message

    nobody = bill_to_invoice(bill(), CONTEXT, index(owners={}))
    assert nobody.ok
    assert nobody.rows[0].values["u_business_owner"] == ""
    assert any(OWNER_EXCEPTION in n and n.startswith("warning") for n in nobody.notes)
    unread = bill_to_invoice(bill(), owned, index())  # users not read (a webhook run): sent as configured
    assert unread.rows[0].values["u_business_owner"] == "Alex.Morgan"


def _set_owners(db: sa.Engine, profile_id: int, owner: str | None, by_cc: dict[str, str]) -> None:
    with session_scope(db) as session:
        profile = session.get(SyncProfile, profile_id)
        assert profile is not None
        profile.business_owner = owner
        profile.cost_center_owners = dump_owner_overrides(by_cc)
        session.add(profile)


def _owner_findings(live: Sandboxes) -> dict[str, list[str]]:
    engine = live.servicenow.lifecycle.exceptions
    return {
        r["external_invoice_number"]: [
            f.description for f in engine.findings(r) if f.definition == OWNER_EXCEPTION
        ]
        for r in live.servicenow.table("sn_shop_invoice")
    }


async def test_seeded_owners_are_staged_and_raise_no_exception(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    seeded = company()
    live.servicenow.set_exception_active(OWNER_EXCEPTION)
    profile_id = create_profile(sqlite_engine, live.endpoints)
    _set_owners(sqlite_engine, profile_id, seeded.business_owner, seeded.cost_center_owners)
    await EngineService(sqlite_engine, factories.zoho, factories.servicenow).run(profile_id)

    users = {u["sys_id"]: u["email"] for u in live.servicenow.table("sys_user")}
    staged = {r["external_invoice_number"]: r for r in live.servicenow.table("sn_shop_invoice")}
    findings = _owner_findings(live)
    ((override_cc, override_user),) = seeded.cost_center_owners.items()
    option = next(c.tag_option_id for c in seeded.cost_centers if c.account_number == override_cc)
    by_override = 0
    good = Expected(seeded).good_bills
    for zoho_bill in good:
        invoice = staged[key(zoho_bill.bill_id)]
        shares: dict[bool, Decimal] = {True: Decimal(0), False: Decimal(0)}
        for item in zoho_bill.lines:
            shares[item.cost_center_option_id == option] += item.quantity * item.rate
        wanted = override_user if shares[True] > 0 else seeded.business_owner
        assert users[invoice["business_owner"]] == wanted
        by_override += wanted == override_user
        assert findings[key(zoho_bill.bill_id)] == []
    assert 0 < by_override < len(good)  # both the profile's owner and the cost center's appear


async def test_an_inactive_owner_fails_every_bill_and_none_meets_the_exception(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    seeded = company()
    live.servicenow.set_exception_active(OWNER_EXCEPTION)
    service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    profile_id = create_profile(sqlite_engine, live.endpoints)
    _set_owners(sqlite_engine, profile_id, "sam.former", {})
    since = min(b.date for b in seeded.bills)
    report = await service.preview(profile_id, date_start=since)
    assert report.counts["ready"] == 0
    assert ("UNKNOWN_BUSINESS_OWNER", "sam.former") in report.blocked_by

    await service.run(profile_id)
    assert not [r for r in live.servicenow.table("sn_shop_invoice") if r["type"] != "credit_memo"]
    with session_scope(sqlite_engine) as session:
        records = session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all()
        good = {b.bill_id for b in Expected(seeded).good_bills}
        failed = [r for r in records if r.zoho_id in good]
        assert failed
        assert {r.status for r in failed} == {AuditStatus.FAILED}
        assert all("'sam.former'" in (r.error_message or "") for r in failed)

    # no owner configured: the preview warns, and the instance raises the exception on the invoices
    _set_owners(sqlite_engine, profile_id, None, {})
    report = await service.preview(profile_id, date_start=since)
    ready = [i for i in report.items if i.outcome == "ready" and i.document]
    assert ready
    assert all(any(OWNER_EXCEPTION in n for n in i.document.notes) for i in ready if i.document)
    await service.replay(profile_id)
    findings = _owner_findings(live)
    assert findings
    assert all(text == ["The invoice has no business owner."] for text in findings.values())


class _Refusing:
    """A reader of ServiceNow records that answers every read with one HTTP status."""

    def __init__(self, status: int) -> None:
        self.status = status

    async def get_records(
        self, table: str, query: EncodedQuery, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        raise ServiceNowAPIError(self.status, "refused", url=f"/api/now/table/{table}")


async def test_users_refused_to_the_integration_user_go_unverified_other_errors_stop_the_read() -> None:
    assert await read_users(_Refusing(403), ["alex.morgan@northwind.example"]) is None
    with pytest.raises(ServiceNowAPIError):
        await read_users(_Refusing(400), ["alex.morgan@northwind.example"])
    assert await read_users(_Refusing(403), []) == {}  # nothing configured: nothing read
