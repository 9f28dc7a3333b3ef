"""Credentials withdrawn mid-run: the run stops in "reauth", names the system and what to do, and after
re-authorising a resumed run stages the rest with nothing lost or duplicated.

The trouble is injected from the run's own event stream, after a chosen number of bills were staged, so it
lands mid-run: Zoho's refresh token (and its access tokens) are revoked at the Zoho sandbox; ServiceNow's
client-credentials grant is switched off and the instance clock moved past the token's lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
from sqlmodel import select

from tests.core.engine.harness import authorize_zoho, create_profile
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import SyncRun
from zbsn.core.domain import RunStatus
from zbsn.core.engine.events import Event, RecordStaged
from zbsn.sandbox.zoho import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

from .checks import assert_exactly_once, staged_invoice_numbers
from .conftest import Clients, World

BILLS = 200
AFTER_STAGED = 60  # bills staged before the credentials go


def trip_after(count: int, action: Callable[[], None]) -> Callable[[Event], None]:
    staged = 0

    def sink(event: Event) -> None:
        nonlocal staged
        if isinstance(event, RecordStaged) and event.kind == "bill":
            staged += 1
            if staged == count:
                action()

    return sink


def run_until_reauth(
    world: World, db: sa.Engine, action: Callable[[], None], system: str
) -> tuple[int, Clients]:
    clients = Clients(world.endpoints)
    profile = create_profile(db, world.endpoints)
    summary = asyncio.run(
        clients.runner(db, batch_size=20).run(profile, events=trip_after(AFTER_STAGED, action))
    )
    assert summary.status == RunStatus.REAUTH, summary
    assert summary.message is not None
    assert system in summary.message
    assert "re-authoris" in summary.message
    with session_scope(db) as session:
        row = session.get(SyncRun, summary.run_id)
        assert row is not None
        assert (row.status, row.message) == (RunStatus.REAUTH, summary.message)
    staged_so_far = len(staged_invoice_numbers(world))
    assert AFTER_STAGED <= staged_so_far < len(world.expected.good_bills)  # stopped mid-run
    return profile, clients


def resume(world: World, db: sa.Engine, profile: int, clients: Clients) -> None:
    summary = asyncio.run(clients.runner(db, batch_size=20).run(profile))
    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES, summary
    assert_exactly_once(world, db)
    with session_scope(db) as session:
        statuses = [r.status for r in session.exec(select(SyncRun).order_by(SyncRun.id))]  # type: ignore[arg-type]
    assert statuses == [RunStatus.REAUTH, RunStatus.COMPLETED_WITH_FAILURES]


def test_zoho_refresh_token_revoked_mid_run(world: Callable[[int], World], sqlite_engine: sa.Engine) -> None:
    w = world(BILLS)

    def revoke() -> None:
        assert w.zoho.revoke_all_refresh_tokens() >= 1

    profile, _ = run_until_reauth(w, sqlite_engine, revoke, "Zoho Books")
    # the operator consents again: a new Self Client code, new tokens
    tokens = authorize_zoho(
        w.zoho.accounts_url, w.zoho.self_client_code(), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )
    resume(w, sqlite_engine, profile, Clients(replace(w.endpoints, zoho_tokens=tokens)))


def test_servicenow_grant_switched_off_mid_run(
    world: Callable[[int], World], sqlite_engine: sa.Engine
) -> None:
    w = world(BILLS)

    def switch_off() -> None:
        w.servicenow.set_client_credentials(False)
        w.servicenow.advance_clock(3600)  # the cached token runs out; a new one is refused

    profile, clients = run_until_reauth(w, sqlite_engine, switch_off, "ServiceNow")
    w.servicenow.set_client_credentials(True)  # the admin turns the grant back on
    resume(w, sqlite_engine, profile, clients)
