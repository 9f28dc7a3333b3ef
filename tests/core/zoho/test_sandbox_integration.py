"""The Zoho client over real sockets against the Zoho sandbox: every DC, refresh, 429 storms, faults.

Nothing of the client is mocked: tokens come from the sandbox's accounts servers, calls go to its API domains.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from zbsn.core.clock import OffsetClock
from zbsn.core.tokens import MemoryTokenStore
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.core.zoho.errors import ZohoReauthorize, ZohoTokenThrottled, ZohoWrongDataCentre
from zbsn.core.zoho.models import RecordError, ZohoBill, ZohoBillSummary, ZohoOrganization
from zbsn.core.zoho.oauth import build_consent_url
from zbsn.core.zoho.redirect_catcher import RedirectCatcher
from zbsn.core.zoho.regions import consent_server_for
from zbsn.sandbox.zoho import (
    DC_CODES,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    OAuthLimits,
    SandboxConfig,
    ZohoSandbox,
    create_zoho_sandbox,
)

# pacing off where the window is Zoho's real 60 s (the 429-44 storm runs paced at a 0.5 s window)
FAST = {
    "retry_wait_initial_s": 0.01,
    "retry_wait_max_s": 0.05,
    "concurrency_retry_s": 0.01,
    "pace_evenly": False,
}


@dataclass
class Connected:
    sandbox: ZohoSandbox
    clock: OffsetClock
    store: MemoryTokenStore
    manager: ZohoTokenManager
    client: ZohoBooksClient


async def connect(sandbox: ZohoSandbox, budget: BudgetConfig | None = None, per_page: int = 200) -> Connected:
    """Authorise through a Self Client code at the org DC's accounts server, then build a client."""
    clock = OffsetClock()
    store = MemoryTokenStore()
    manager = ZohoTokenManager(store, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, clock)
    await manager.authorize_self_client(sandbox.accounts_url, sandbox.self_client_code())
    org_budget = OrgBudget(sandbox.organization_id, budget or BudgetConfig(**FAST), clock=clock)
    client = ZohoBooksClient(
        organization_id=sandbox.organization_id,
        tokens=manager,
        budget=org_budget,
        clock=clock,
        per_page=per_page,
    )
    return Connected(sandbox, clock, store, manager, client)


@pytest.fixture
def sandbox() -> Iterator[ZohoSandbox]:
    with create_zoho_sandbox(config=SandboxConfig(org_dc="eu", seed=7, bills=60)) as running:
        yield running


@pytest.fixture
async def conn(sandbox: ZohoSandbox) -> AsyncIterator[Connected]:
    connected = await connect(sandbox, per_page=10)
    yield connected
    await connected.client.aclose()


async def full_pull(
    client: ZohoBooksClient,
) -> tuple[list[ZohoBillSummary], list[RecordError], list[ZohoBill | RecordError]]:
    """List every bill, then fetch each one's detail concurrently (as the engine does)."""
    summaries: list[ZohoBillSummary] = []
    errors: list[RecordError] = []
    async for record in client.iter_bills():
        (errors if isinstance(record, RecordError) else summaries).append(record)  # type: ignore[arg-type]
    details = await asyncio.gather(*(client.get_bill(s.bill_id) for s in summaries))
    return summaries, errors, list(details)


# -- every data centre -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dc", DC_CODES)
async def test_consent_redirect_exchange_and_calls_land_on_the_users_dc(dc: str) -> None:
    with create_zoho_sandbox(config=SandboxConfig(org_dc=dc, seed=3, bills=3)) as zoho:
        clock, store = OffsetClock(), MemoryTokenStore()
        manager = ZohoTokenManager(store, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, clock)
        # consent starts at the US server (CN at its own), as a real client would; the user's DC answers
        start = consent_server_for(dc, override=zoho.urls["cn" if dc == "cn" else "us"].accounts_url)
        async with RedirectCatcher() as catcher:
            consent = build_consent_url(start, DEMO_CLIENT_ID, catcher.redirect_uri)
            async with httpx.AsyncClient(follow_redirects=True) as browser:
                landing = await browser.get(consent.url)
            redirect = await catcher.wait(consent.state, timeout_s=10)
        assert landing.status_code == 200
        assert (redirect.location, redirect.accounts_server) == (dc, zoho.urls[dc].accounts_url)
        await manager.authorize_with_redirect(redirect, catcher.redirect_uri)
        assert store.tokens is not None
        assert (store.tokens.api_domain, store.tokens.accounts_server, store.tokens.dc) == (
            zoho.urls[dc].api_domain,
            zoho.urls[dc].accounts_url,
            dc,
        )
        budget = OrgBudget(zoho.organization_id, BudgetConfig(**FAST), clock=clock)
        async with ZohoBooksClient(
            organization_id=zoho.organization_id, tokens=manager, budget=budget, clock=clock
        ) as books:
            assert await books.base_url() == zoho.urls[dc].books_base
            organization = await books.get_organization()
            assert isinstance(organization, ZohoOrganization)
            assert organization.organization_id == zoho.organization_id
        # the same token on another DC's API domain fails like Zoho (401 code 57), reported as a DC mismatch
        other = DC_CODES[(DC_CODES.index(dc) + 1) % len(DC_CODES)]
        async with ZohoBooksClient(
            organization_id=zoho.organization_id,
            tokens=manager,
            budget=budget,
            api_domain=zoho.urls[other].api_domain,
            clock=clock,
        ) as wrong:
            with pytest.raises(ZohoWrongDataCentre) as caught:
                await wrong.get_organization()
        assert caught.value.token_api_domain == zoho.urls[dc].api_domain
        assert zoho.counters()["api"]["statuses"].get("401") == 1
        assert manager.state == "ok"  # a misdirected call does not spoil the connection


# -- tokens ------------------------------------------------------------------------------------------------


async def test_refresh_at_minute_55_with_both_clocks_advanced(conn: Connected) -> None:
    first = await conn.manager.access_token()
    for _ in range(4):  # 4 x 15 minutes: the refresh must come between minute 55 and 60
        conn.sandbox.advance(15 * 60)
        conn.clock.advance(15 * 60)
        assert isinstance(await conn.client.get_organization(), ZohoOrganization)
    assert conn.manager.refresh_count == 1
    assert await conn.manager.access_token() != first
    counters = conn.sandbox.counters()
    assert counters["oauth"].get("refresh_token:ok") == 1
    assert "401" not in counters["api"]["statuses"]  # no request ever carried an expired token


async def test_revoked_refresh_token_means_reauthorise_not_a_crash_loop(conn: Connected) -> None:
    assert isinstance(await conn.client.get_organization(), ZohoOrganization)
    conn.sandbox.revoke_all_refresh_tokens()
    for _ in range(3):
        with pytest.raises(ZohoReauthorize):
            await conn.client.get_organization()
    assert conn.manager.state == "reauthorise"
    assert (
        conn.sandbox.counters()["oauth"].get("refresh_token:invalid_code") == 1
    )  # asked once, not in a loop


async def test_mint_throttle_puts_the_connection_in_wait() -> None:
    config = SandboxConfig(
        org_dc="in", seed=7, bills=5, oauth=OAuthLimits(mint_limit=1, mint_window_seconds=7200)
    )
    with create_zoho_sandbox(config=config) as zoho:
        conn = await connect(zoho)
        for minutes in (56, 2):
            zoho.advance(minutes * 60)
            conn.clock.advance(minutes * 60)
            # the live token keeps working while minting is throttled
            assert isinstance(await conn.client.get_organization(), ZohoOrganization)
        assert conn.manager.state == "wait"
        assert conn.manager.retry_at is not None
        zoho.advance(5 * 60)
        conn.clock.advance(5 * 60)  # the token is now dead
        for _ in range(3):
            with pytest.raises(ZohoTokenThrottled):
                await conn.client.get_organization()
        assert zoho.counters()["oauth"].get("refresh_token:Access Denied") == 1
        await conn.client.aclose()


# -- rate limits ---------------------------------------------------------------------------------------------


async def _absorbs_storm(conn: Connected) -> dict[str, int]:
    summaries, errors, details = await full_pull(conn.client)
    expected = set(conn.sandbox.state.bills)
    assert errors == []
    assert len(summaries) == len({s.bill_id for s in summaries}) == len(expected)
    assert {s.bill_id for s in summaries} == expected
    # every detail is back exactly once: a bill, or a per-record error for the demo company's bad line
    assert sorted(d.bill_id if isinstance(d, ZohoBill) else str(d.record_id) for d in details) == sorted(
        expected
    )
    assert sum(isinstance(d, ZohoBill) for d in details) >= len(expected) - 2
    rejections: dict[str, int] = conn.sandbox.counters()["api"]["rejections"]
    return rejections


async def test_code_44_storm_is_absorbed(sandbox: ZohoSandbox) -> None:
    sandbox.set_limits(per_window=15, window_seconds=0.5)
    conn = await connect(
        sandbox,
        BudgetConfig(**{**FAST, "pace_evenly": True, "per_window_limit": 100, "window_s": 0.5}),
        per_page=10,
    )
    rejections = await _absorbs_storm(conn)
    assert rejections.get("44", 0) > 0
    assert conn.client.budget.snapshot().total_429_by_code.get(44) == rejections["44"]
    assert conn.client.budget.snapshot().effective_limit < 100  # it learned the real limit
    await conn.client.aclose()


async def test_code_45_storm_is_absorbed(sandbox: ZohoSandbox) -> None:
    sandbox.set_limits(daily_limit=25, day_seconds=1.0)
    conn = await connect(sandbox, per_page=10)
    rejections = await _absorbs_storm(conn)
    assert rejections.get("45", 0) > 0
    await conn.client.aclose()


async def test_code_1070_storm_is_absorbed(sandbox: ZohoSandbox) -> None:
    sandbox.set_limits(concurrency=2)
    sandbox.set_faults(latency_ms=20)
    conn = await connect(sandbox, per_page=10)
    rejections = await _absorbs_storm(conn)
    assert rejections.get("1070", 0) > 0
    snap = conn.client.budget.snapshot()
    assert snap.paused_until is None  # a concurrency refusal does not pause the org
    assert snap.concurrency_limit <= 2  # it learned the sandbox's in-flight limit
    await conn.client.aclose()


async def test_transient_faults_are_retried_and_nothing_is_lost(sandbox: ZohoSandbox) -> None:
    sandbox.set_faults(fault_rate=0.2, kinds={"error_5xx": 1, "drop": 1}, seed=5)
    conn = await connect(sandbox, BudgetConfig(retry_attempts=8, **FAST), per_page=10)
    await _absorbs_storm(conn)
    injected = sandbox.counters()["faults"]["injected"]
    assert injected.get("error_5xx", 0) > 0
    assert injected.get("drop", 0) > 0
    await conn.client.aclose()


# -- data faults ---------------------------------------------------------------------------------------------


async def test_duplicates_across_pages_are_yielded_once(conn: Connected) -> None:
    conn.sandbox.set_faults(fault_rate=1.0, kinds={"duplicate_page": 1})
    ids = [b.bill_id async for b in conn.client.iter_bills() if isinstance(b, ZohoBillSummary)]
    assert len(ids) == len(set(ids)) == len(conn.sandbox.state.bills)
    # with the fault on every page, each page after the first starts one bill early: page 2 repeats one
    assert conn.client.last_walk.duplicates >= 1


async def test_malformed_records_become_record_errors(conn: Connected) -> None:
    conn.sandbox.set_faults(fault_rate=1.0, kinds={"malformed": 1})
    records = [b async for b in conn.client.iter_bills()]
    errors = [r for r in records if isinstance(r, RecordError)]
    assert len(records) == len(conn.sandbox.state.bills)
    assert len(errors) == conn.client.last_walk.pages  # one per page, and the rest of each page still parsed
    assert all(e.entity == "bill" and e.record_id and "total" in e.reason for e in errors)


async def test_reference_data_reads(conn: Connected) -> None:
    tags = await conn.client.list_reporting_tags()
    assert tags
    assert all(not isinstance(t, RecordError) and t.tag_options for t in tags)
    accounts = await conn.client.list_accounts()
    locations = await conn.client.list_locations()
    vendors = [v async for v in conn.client.iter_vendors()]
    payments = [p async for p in conn.client.iter_vendor_payments()]
    for records in (accounts, locations, vendors, payments):
        assert records
        assert not [r for r in records if isinstance(r, RecordError)]
    first_payment = payments[0]
    assert not isinstance(first_payment, RecordError)
    detail = await conn.client.get_vendor_payment(first_payment.payment_id)
    assert not isinstance(detail, RecordError)
    assert detail.bills
    first_vendor = vendors[0]
    assert not isinstance(first_vendor, RecordError)
    assert not isinstance(await conn.client.get_vendor(first_vendor.contact_id), RecordError)
