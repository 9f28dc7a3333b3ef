"""Token manager: single-flight proactive refresh, persistence before use, throttle and revocation states."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.core.zoho.fakes import ACCOUNTS, API, ORG, FakeZoho
from zbsn.core.clock import OffsetClock
from zbsn.core.tokens import MemoryTokenStore
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.core.zoho.errors import ZohoReauthorize, ZohoTokenThrottled, ZohoWrongDataCentre
from zbsn.core.zoho.oauth import parse_redirect

THROTTLED = (
    400,
    {"error_description": "You have made too many requests continuously.", "error": "Access Denied"},
)


async def test_fifty_concurrent_callers_cause_one_refresh(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> None:
    fake.refresh_delay_s = 0.05  # keep the refresh in flight while the others arrive
    clock.advance(56 * 60)
    tokens = await asyncio.gather(*(manager.access_token() for _ in range(50)))
    assert fake.refreshes == 1
    assert len(set(tokens)) == 1
    assert manager.refresh_count == 1


async def test_refresh_happens_at_minute_55_not_before(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> None:
    first = await manager.access_token()
    clock.advance(54 * 60 + 50)
    assert await manager.access_token() == first
    assert fake.refreshes == 0
    clock.advance(20)  # now past minute 55
    assert await manager.access_token() != first
    assert fake.refreshes == 1
    assert manager.expires_in() == pytest.approx(3600, abs=5)


async def test_no_request_ever_carries_an_expired_token(
    fake: FakeZoho, client: ZohoBooksClient, store: MemoryTokenStore, clock: OffsetClock
) -> None:
    """Walk the bills every simulated 4 minutes for 3 hours; each request's token must be live when sent."""
    issued_at: dict[str, float] = {}
    expired_uses: list[str] = []
    original = fake._api

    def checking(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Zoho-oauthtoken ")
        issued_at.setdefault(token, clock.monotonic())
        if clock.monotonic() - issued_at[token] >= 3600:
            expired_uses.append(token)
        return original(request)

    fake._api = checking  # type: ignore[method-assign]
    for _ in range(45):
        assert [b async for b in client.iter_bills()]
        clock.advance(4 * 60)
    assert expired_uses == []
    assert fake.refreshes == 3  # one per hour, at minute 55


async def test_minted_tokens_are_saved_before_use(
    fake: FakeZoho, manager: ZohoTokenManager, store: MemoryTokenStore, clock: OffsetClock
) -> None:
    clock.advance(3500)
    token = await manager.access_token()
    assert store.tokens is not None
    assert store.tokens.access_token == token
    assert (store.tokens.api_domain, store.tokens.accounts_server, store.tokens.dc) == (API, ACCOUNTS, "eu")


async def test_authorising_from_a_redirect_persists_domain_server_and_dc(
    fake: FakeZoho, clock: OffsetClock
) -> None:
    store = MemoryTokenStore()
    manager = ZohoTokenManager(store, "1000.client", "secret", clock, http=fake.client())
    redirect = parse_redirect(
        {"code": "1000.code", "location": "eu", "accounts-server": ACCOUNTS, "state": "s"}, expected_state="s"
    )
    await manager.authorize_with_redirect(redirect, "http://127.0.0.1:1/callback")
    assert fake.token_requests[0].url.host == "accounts.zoho.eu"
    assert store.tokens is not None
    assert (store.tokens.api_domain, store.tokens.accounts_server, store.tokens.dc) == (API, ACCOUNTS, "eu")
    assert store.tokens.refresh_token == "1000.refresh"
    assert manager.state == "ok"


async def test_mint_throttle_puts_the_manager_in_wait_and_does_not_retry(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> None:
    fake.token_errors = [THROTTLED, THROTTLED]
    clock.advance(58 * 60)
    # the current token still has 2 minutes: it is handed out while the endpoint is throttled
    assert await manager.access_token()
    assert manager.state == "wait"
    assert manager.retry_at is not None
    clock.advance(5 * 60)  # now expired, still inside the wait
    for _ in range(3):
        with pytest.raises(ZohoTokenThrottled):
            await manager.access_token()
    assert len(fake.token_requests) == 1  # never asked again before retry_at
    clock.advance(30 * 60)
    fake.token_errors = []
    assert await manager.access_token()
    assert manager.state == "ok"


async def test_revoked_refresh_token_asks_for_reauthorisation_once(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> None:
    fake.token_errors = [(200, {"error": "invalid_code"})]
    clock.advance(3600)
    for _ in range(3):
        with pytest.raises(ZohoReauthorize):
            await manager.access_token()
    assert manager.state == "reauthorise"
    assert "revoked" in (manager.reason or "")
    assert len(fake.token_requests) == 1


async def test_401_code_57_refreshes_once_then_retries(fake: FakeZoho, client: ZohoBooksClient) -> None:
    fake.valid_tokens.clear()  # Zoho dropped our token (e.g. the 16th live token evicted it)
    bills = [b async for b in client.iter_bills()]
    assert len(bills) == 5
    assert fake.refreshes == 1
    assert len(fake.api_requests) == 2
    assert client.request_count == 2


async def test_second_401_after_refresh_raises_reauthorise(fake: FakeZoho, client: ZohoBooksClient) -> None:
    fake.valid_tokens.clear()
    fake.mint = lambda: "1000.never-valid"  # type: ignore[method-assign]
    with pytest.raises(ZohoReauthorize, match="401 code 57"):
        await client.get_bill("9000000001")
    assert fake.refreshes == 1
    assert client.tokens.state == "reauthorise"


async def test_token_used_on_another_dc_is_reported_as_wrong_data_centre(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> None:
    fake.valid_tokens.clear()
    books = ZohoBooksClient(
        organization_id=ORG,
        tokens=manager,
        api_domain="https://www.zohoapis.com",
        http=fake.client(),
        clock=clock,
    )
    with pytest.raises(ZohoWrongDataCentre) as caught:
        await books.get_bill("9000000001")
    assert caught.value.token_api_domain == API
    assert fake.refreshes == 0  # refreshing cannot fix a wrong DC


async def test_ensure_valid_refreshes_ahead_of_a_long_wait(
    fake: FakeZoho, manager: ZohoTokenManager, clock: OffsetClock
) -> None:
    clock.advance(50 * 60)  # 10 minutes left: fine for now, not for a 10-minute wait
    await manager.ensure_valid(60)
    assert fake.refreshes == 0
    await manager.ensure_valid(11 * 60)
    assert fake.refreshes == 1
