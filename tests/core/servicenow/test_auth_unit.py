"""ServiceNowAuth over MockTransport: single flight, proactive refresh, 401 handling, refused grants."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from zbsn.core.clock import OffsetClock
from zbsn.core.servicenow.errors import ServiceNowReauthorize
from zbsn.core.tokens import MemoryTokenStore, TokenSet

from .fakes import FakeInstance, make_client, ok, sn_error

NOT_AUTHENTICATED = ("User Not Authenticated", "Required to provide Auth information")


async def test_fifty_concurrent_callers_cost_one_token_request() -> None:
    fake = FakeInstance()
    async with make_client(fake) as client:
        query_results = await asyncio.gather(*(client.list_cost_centers() for _ in range(50)))
    assert query_results == [[]] * 50
    token_requests = [r for r in fake.requests if r.url.path == "/oauth_token.do"]
    assert len(token_requests) == 1
    assert client.request_count == 51
    form = parse_qs(token_requests[0].content.decode())
    assert form == {"grant_type": ["client_credentials"], "client_id": ["cid"], "client_secret": ["secret"]}
    assert token_requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert {r.headers["authorization"] for r in fake.api_requests()} == {"Bearer tok-1"}


async def test_token_is_saved_and_reused_then_refreshed_before_it_runs_out() -> None:
    clock = OffsetClock()
    store = MemoryTokenStore()
    fake = FakeInstance()
    async with make_client(fake, clock=clock, store=store) as client:
        await client.list_gl_accounts()
        assert store.saves == 1
        assert store.tokens is not None
        assert store.tokens.access_token == "tok-1"
        assert client.auth.expires_in() == pytest.approx(1799, abs=2)
        clock.advance(1799 - 121)  # 121 s left: still outside the 120 s margin
        await client.list_gl_accounts()
        assert fake.tokens_issued == 1
        clock.advance(2)  # 119 s left: refreshed before the request, not after a 401
        await client.list_gl_accounts()
        assert fake.tokens_issued == 2
    assert [r.headers["authorization"] for r in fake.api_requests()] == ["Bearer tok-1"] * 2 + [
        "Bearer tok-2"
    ]
    assert store.saves == 2
    assert client.auth.state == "ok"


async def test_a_fresh_token_in_the_store_is_used_without_a_grant() -> None:
    clock = OffsetClock()
    store = MemoryTokenStore(TokenSet(access_token="stored", expires_at=clock.now() + timedelta(minutes=20)))
    fake = FakeInstance()
    async with make_client(fake, clock=clock, store=store) as client:
        await client.list_suppliers()
    assert fake.tokens_issued == 0
    assert fake.api_requests()[0].headers["authorization"] == "Bearer stored"


async def test_401_mid_run_refreshes_once_and_retries_once() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer tok-1":
            return sn_error(401, *NOT_AUTHENTICATED)
        return ok({"result": [{"sys_id": "1", "number": "4000"}]})

    fake = FakeInstance(api=api)
    async with make_client(fake) as client:
        accounts = await client.list_gl_accounts()
    assert [a.number for a in accounts] == ["4000"]
    assert fake.tokens_issued == 2
    assert client.request_count == 4  # token, 401, token, retry
    assert client.auth.state == "ok"


async def test_a_second_401_asks_to_reauthorise() -> None:
    fake = FakeInstance(api=lambda request: sn_error(401, *NOT_AUTHENTICATED))
    async with make_client(fake) as client:
        with pytest.raises(ServiceNowReauthorize, match="re-authorise"):
            await client.list_gl_accounts()
    assert len(fake.api_requests()) == 2  # the first try and exactly one retry
    assert fake.tokens_issued == 2
    assert client.auth.state == "reauthorise"


async def test_a_refused_grant_names_what_to_check() -> None:
    refused = ok({"error_description": "access_denied", "error": "server_error"}, 401)
    fake = FakeInstance(token_answers=[refused])
    async with make_client(fake) as client:
        with pytest.raises(ServiceNowReauthorize) as caught:
            await client.list_legal_entities()
    message = str(caught.value)
    assert "client id and secret" in message
    assert "glide.oauth.inbound.client.credential.grant_type.enabled" in message
    assert "OAuth Application User" in message
    assert client.auth.state == "reauthorise"
    assert fake.api_requests() == []


async def test_a_transient_token_failure_is_retried() -> None:
    fake = FakeInstance(token_answers=[sn_error(503, "Service Unavailable")])
    async with make_client(fake) as client:
        assert await client.list_cost_centers() == []
    assert fake.tokens_issued == 1
    assert client.request_count == 3
