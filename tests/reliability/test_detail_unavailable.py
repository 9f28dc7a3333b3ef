"""A bill Zoho keeps failing to serve fails alone, with the reason; when every bill fails, the run stops.

The Zoho sandbox answers HTTP 500 for the chosen bills' detail on every try (the client retries first), as a
real org does for a record its backend cannot render.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

import pytest
from sqlmodel import select

from tests.core.engine.expectations import key
from tests.core.engine.harness import Endpoints, authorize_zoho, create_profile
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RunStatus
from zbsn.core.engine.problems import ErrorCode
from zbsn.sandbox.servicenow import DEMO_CLIENT_ID as SN_ID
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_SECRET
from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, render

from .checks import staged_invoice_numbers
from .conftest import Clients, World, reseed

BILLS = 20


def _world(sandboxes: Any) -> World:
    zoho, servicenow = sandboxes
    company = reseed(zoho, servicenow, BILLS)
    tokens = authorize_zoho(zoho.accounts_url, zoho.self_client_code(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    endpoints = Endpoints(
        zoho.accounts_url,
        zoho.api_domain,
        servicenow.url,
        tokens,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        SN_ID,
        SN_SECRET,
    )
    return World(zoho, servicenow, endpoints, company)


def _failing_detail(broken: set[str]) -> Any:
    original = render.bill_detail

    def detail(state: Any, bill: Any, **kw: Any) -> dict[str, Any]:
        if bill.bill_id in broken:
            raise RuntimeError("the sandbox cannot render this bill")  # Starlette answers 500
        return original(state, bill, **kw)

    return detail


def test_one_unservable_bill_fails_alone_and_the_run_goes_on(sandboxes: Any) -> None:
    world = _world(sandboxes)
    good = world.expected.good_bills
    victim = good[0].bill_id
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(render, "bill_detail", _failing_detail({victim}))
        db = make_engine(f"sqlite:///{tmp}/z.db")
        migrate.upgrade(db)
        profile = create_profile(db, world.endpoints)
        summary = asyncio.run(Clients(world.endpoints).runner(db).run(profile))
        assert summary.status == RunStatus.COMPLETED_WITH_FAILURES, summary.message
        staged = set(staged_invoice_numbers(world))
        assert {key(b.bill_id) for b in good[1:]} <= staged
        assert key(victim) not in staged
        with session_scope(db) as session:
            row = session.exec(select(AuditRecord).where(AuditRecord.zoho_id == victim)).one()
        assert row.status == AuditStatus.FAILED
        assert row.error_code == ErrorCode.SOURCE_UNAVAILABLE
        assert "replay" in (row.error_message or "")
        db.dispose()


def test_every_bill_unservable_stops_the_run(sandboxes: Any) -> None:
    world = _world(sandboxes)
    everything = {bill.bill_id for bill in world.company.bills}
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(render, "bill_detail", _failing_detail(everything))
        db = make_engine(f"sqlite:///{tmp}/z.db")
        migrate.upgrade(db)
        profile = create_profile(db, world.endpoints)
        summary = asyncio.run(Clients(world.endpoints).runner(db).run(profile))
        assert summary.status == RunStatus.FAILED
        assert "500" in (summary.message or "")
        assert not staged_invoice_numbers(world)
        db.dispose()
