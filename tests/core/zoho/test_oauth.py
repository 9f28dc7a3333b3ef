"""Consent URL, redirect parsing and the mapping of token-endpoint answers to typed errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from zbsn.core.zoho.errors import ZohoConsentError, ZohoReauthorize, ZohoTokenThrottled, ZohoTransportError
from zbsn.core.zoho.oauth import SCOPE_STRING, ZohoOAuth, build_consent_url, parse_redirect

NOW = datetime(2026, 6, 9, 12, 0, tzinfo=UTC)


def test_consent_url_asks_offline_access_with_forced_consent_and_random_state() -> None:
    first = build_consent_url("https://accounts.zoho.com/", "1000.ID", "http://127.0.0.1:5000/callback")
    second = build_consent_url("https://accounts.zoho.com", "1000.ID", "http://127.0.0.1:5000/callback")
    parts = urlsplit(first.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.zoho.com/oauth/v2/auth"
    assert query == {
        "scope": SCOPE_STRING,
        "client_id": "1000.ID",
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:5000/callback",
        "access_type": "offline",
        "prompt": "consent",
        "state": first.state,
    }
    assert "ZohoBooks.accountants.READ" in SCOPE_STRING
    assert first.state != second.state


def test_redirect_is_parsed_and_state_verified() -> None:
    url = (
        "http://127.0.0.1:5000/callback?code=1000.abc&location=eu"
        "&accounts-server=https%3A%2F%2Faccounts.zoho.eu&state=s1"
    )
    redirect = parse_redirect(url, "s1")
    assert (redirect.code, redirect.location, redirect.accounts_server, redirect.dc) == (
        "1000.abc",
        "eu",
        "https://accounts.zoho.eu",
        "eu",
    )
    with pytest.raises(ZohoConsentError, match="state"):
        parse_redirect(url, "another")


def test_redirect_without_accounts_server_falls_back_to_the_location_table() -> None:
    redirect = parse_redirect({"code": "c", "location": "ca", "state": "s"}, "s")
    assert redirect.accounts_server == "https://accounts.zohocloud.ca"


def test_refused_consent_is_a_consent_error() -> None:
    with pytest.raises(ZohoConsentError, match="access_denied"):
        parse_redirect("?error=access_denied&state=s", "s")


def _oauth(status: int, body: object) -> ZohoOAuth:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return ZohoOAuth("1000.ID", "secret", http=httpx.AsyncClient(transport=transport), throttle_wait_s=900)


@pytest.mark.parametrize(
    ("status", "body", "grant", "expected", "error"),
    [
        (200, {"error": "invalid_code"}, "refresh", ZohoReauthorize, "invalid_code"),
        (200, {"error": "invalid_code"}, "code", ZohoReauthorize, "invalid_code"),
        (200, {"error": "invalid_client"}, "refresh", ZohoReauthorize, "invalid_client"),
        (200, {"error": "invalid_client_secret"}, "code", ZohoReauthorize, "invalid_client_secret"),
        (400, {"error": "Access Denied", "status": "failure"}, "refresh", ZohoTokenThrottled, None),
        (500, {"message": "boom"}, "refresh", ZohoTransportError, None),
    ],
)
async def test_token_errors_map_to_typed_exceptions(status, body, grant, expected, error) -> None:  # type: ignore[no-untyped-def]
    oauth = _oauth(status, body)
    call = (
        oauth.refresh("https://accounts.zoho.eu", "1000.r", now=NOW)
        if grant == "refresh"
        else oauth.exchange_code("https://accounts.zoho.eu", "1000.c", now=NOW, redirect_uri="http://x/cb")
    )
    with pytest.raises(expected) as caught:
        await call
    if error is not None:
        assert caught.value.error == error  # type: ignore[attr-defined]
    if expected is ZohoTokenThrottled:
        assert caught.value.retry_at == NOW + timedelta(seconds=900)  # type: ignore[attr-defined]


async def test_refresh_is_a_form_post_to_the_given_accounts_server() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"access_token": "1000.a", "api_domain": "https://www.zohoapis.in", "expires_in": 3600}
        )

    oauth = ZohoOAuth("1000.ID", "secret", http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    response = await oauth.refresh("https://accounts.zoho.in", "1000.r", now=NOW)
    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", "https://accounts.zoho.in/oauth/v2/token")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "client_id": "1000.ID",
        "client_secret": "secret",
        "refresh_token": "1000.r",
    }
    assert (response.access_token, response.api_domain, response.refresh_token) == (
        "1000.a",
        "https://www.zohoapis.in",
        None,
    )
