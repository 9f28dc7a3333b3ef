"""Zoho Accounts behaviour: consent redirect, DC-bound tokens, expiry, error bodies, throttles and caps."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.sandbox.zoho.conftest import Books, exchange_code, new_tokens, refresh
from zbsn.sandbox.zoho import (
    DATA_CENTRES,
    DC_CODES,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    READ_SCOPES,
    ZohoSandbox,
)

THROTTLE_TEXT = "You have made too many requests continuously. Please try again after some time."


def _consent(sandbox: ZohoSandbox, accounts_url: str, **extra: str) -> httpx.Response:
    params = {
        "scope": READ_SCOPES,
        "client_id": DEMO_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:9/cb",
        "state": "xyz-42",
        "access_type": "offline",
        "prompt": "consent",
        **extra,
    }
    return httpx.get(accounts_url + "/oauth/v2/auth", params=params)


def _redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:9/cb?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_dc_table_has_every_dc_and_canada_uses_zohocloud() -> None:
    assert set(DC_CODES) == {"us", "eu", "in", "au", "jp", "ca", "cn", "sa", "uk"}
    assert DATA_CENTRES["ca"].accounts_host == "https://accounts.zohocloud.ca"
    assert DATA_CENTRES["eu"].api_domain == "https://www.zohoapis.eu"


def test_every_dc_has_distinct_loopback_urls(shared: ZohoSandbox) -> None:
    bases = [u.accounts_url for u in shared.urls.values()] + [u.api_domain for u in shared.urls.values()]
    assert len(bases) == len(set(bases)) == 18
    assert shared.urls["eu"].books_base.endswith("/books/v3")


def test_consent_redirect_carries_code_location_server_and_state(shared: ZohoSandbox) -> None:
    # Consent starts at the US accounts server; the user lives in the EU DC, so the redirect names EU.
    params = _redirect_params(_consent(shared, shared.urls["us"].accounts_url))
    assert params["state"] == "xyz-42"
    assert params["location"] == "eu"
    assert params["accounts-server"] == shared.urls["eu"].accounts_url
    assert params["code"].startswith("1000.")
    body = exchange_code(shared, params["code"], params["accounts-server"])
    assert body["api_domain"] == shared.urls["eu"].api_domain
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"].startswith("1000.")


def test_unregistered_redirect_uri_is_refused(shared: ZohoSandbox) -> None:
    response = _consent(shared, shared.accounts_url, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_redirect_uri"}


def test_refresh_token_only_on_first_offline_consent(fresh: ZohoSandbox) -> None:
    first = _redirect_params(_consent(fresh, fresh.accounts_url, prompt=""))
    assert "refresh_token" in exchange_code(fresh, first["code"])
    again = _redirect_params(_consent(fresh, fresh.accounts_url, prompt=""))
    assert "refresh_token" not in exchange_code(fresh, again["code"])
    forced = _redirect_params(_consent(fresh, fresh.accounts_url, prompt="consent"))
    assert "refresh_token" in exchange_code(fresh, forced["code"])
    online = _redirect_params(_consent(fresh, fresh.accounts_url, access_type="online"))
    assert "refresh_token" not in exchange_code(fresh, online["code"])


def test_token_shape_and_api_domain_of_the_dc() -> None:
    from tests.sandbox.zoho.conftest import start
    from zbsn.sandbox.zoho import SandboxConfig

    sandbox = start(SandboxConfig(org_dc="ca", bills=50))
    try:
        body = new_tokens(sandbox)
        assert body["api_domain"] == sandbox.urls["ca"].api_domain != sandbox.urls["us"].api_domain
        parts = body["access_token"].split(".")
        assert parts[0] == "1000"
        assert len(parts[1]) == 32
        assert len(parts[2]) == 32
        assert (
            Books(sandbox, body["access_token"], sandbox.urls["ca"].books_base).get("/bills").status_code
            == 200
        )
    finally:
        sandbox.stop()


def test_token_from_one_dc_is_refused_by_another(shared: ZohoSandbox) -> None:
    token = new_tokens(shared)["access_token"]
    assert Books(shared, token, shared.urls["eu"].books_base).get("/organizations").status_code == 200
    response = Books(shared, token, shared.urls["us"].books_base).get("/organizations")
    assert response.status_code == 401
    assert response.json() == {"code": 57, "message": "You are not authorized to perform this operation"}


def test_access_token_expires_after_3600_seconds(fresh: ZohoSandbox) -> None:
    tokens = new_tokens(fresh)
    books = Books(fresh, tokens["access_token"])
    fresh.advance(3590)
    assert books.get("/organizations").status_code == 200
    fresh.advance(11)
    response = books.get("/organizations")
    assert response.status_code == 401
    assert response.json()["code"] == 57
    renewed = refresh(fresh, tokens["refresh_token"]).json()
    assert Books(fresh, renewed["access_token"]).get("/organizations").status_code == 200


def test_auth_header_errors(shared: ZohoSandbox) -> None:
    url = shared.books_base + "/organizations"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json()["code"] == 14
    token = new_tokens(shared)["access_token"]
    bearer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 401
    assert bearer.json()["code"] == 14
    garbage = httpx.get(url, headers={"Authorization": "Zoho-oauthtoken 1000.nope.nope"})
    assert garbage.status_code == 401
    assert garbage.json()["code"] == 57


def test_missing_scope_is_code_57(shared: ZohoSandbox) -> None:
    body = exchange_code(shared, shared.self_client_code("ZohoBooks.bills.READ"))
    books = Books(shared, body["access_token"])
    assert books.get("/bills").status_code == 200
    denied = books.get("/chartofaccounts")
    assert denied.status_code == 401
    assert denied.json()["code"] == 57


def test_token_endpoint_errors_are_http_200_bodies(shared: ZohoSandbox) -> None:
    url = shared.accounts_url + "/oauth/v2/token"
    code = shared.self_client_code()
    base = {
        "grant_type": "authorization_code",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    cases = [
        ({**base, "client_id": "1000.UNKNOWN"}, "invalid_client"),
        ({**base, "client_secret": "wrong", "code": code}, "invalid_client_secret"),
        ({**base, "code": "1000.abc.def"}, "invalid_code"),
    ]
    for params, expected in cases:
        response = httpx.post(url, params=params)
        assert response.status_code == 200
        assert response.json() == {"error": expected}
    as_json = httpx.post(url, json={**base, "code": code})
    assert as_json.status_code == 200
    assert as_json.json() == {"error": "invalid_client"}
    assert "access_token" in httpx.post(url, params={**base, "code": code}).json()
    reused = httpx.post(url, params={**base, "code": code})
    assert reused.status_code == 200
    assert reused.json() == {"error": "invalid_code"}


def test_code_at_the_wrong_dc_is_invalid_client(shared: ZohoSandbox) -> None:
    code = shared.self_client_code()
    body = exchange_code(shared, code, shared.urls["in"].accounts_url)
    assert body == {"error": "invalid_client"}
    assert "access_token" in exchange_code(shared, code)  # still usable at the right DC


def test_codes_expire(fresh: ZohoSandbox) -> None:
    code = fresh.self_client_code()
    fresh.advance(181)
    assert exchange_code(fresh, code) == {"error": "invalid_code"}
    web = _redirect_params(_consent(fresh, fresh.accounts_url))["code"]
    fresh.advance(121)
    assert exchange_code(fresh, web) == {"error": "invalid_code"}


def test_mint_throttle_answers_400_access_denied(fresh: ZohoSandbox) -> None:
    tokens = new_tokens(fresh)  # mint 1
    for _ in range(9):  # mints 2..10
        assert refresh(fresh, tokens["refresh_token"]).json()["access_token"]
    throttled = refresh(fresh, tokens["refresh_token"])
    assert throttled.status_code == 400
    assert throttled.json() == {
        "error_description": THROTTLE_TEXT,
        "error": "Access Denied",
        "status": "failure",
    }
    fresh.advance(601)
    assert refresh(fresh, tokens["refresh_token"]).status_code == 200


def test_sixteenth_access_token_invalidates_the_oldest(fresh: ZohoSandbox) -> None:
    tokens = new_tokens(fresh)
    minted = [tokens["access_token"]]
    while len(minted) < 16:
        if len(minted) % 10 == 0:
            fresh.advance(601)  # stay under the mint throttle
        minted.append(refresh(fresh, tokens["refresh_token"]).json()["access_token"])
    assert Books(fresh, minted[0]).get("/organizations").json()["code"] == 57
    assert Books(fresh, minted[1]).get("/organizations").status_code == 200
    assert Books(fresh, minted[15]).get("/organizations").status_code == 200


def test_twenty_first_refresh_token_evicts_the_oldest(fresh: ZohoSandbox) -> None:
    refresh_tokens = [new_tokens(fresh)["refresh_token"] for _ in range(21)]
    assert refresh(fresh, refresh_tokens[0]).json() == {"error": "invalid_code"}
    assert "access_token" in refresh(fresh, refresh_tokens[1]).json()


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_revoke_endpoint(fresh: ZohoSandbox, which: str) -> None:
    tokens = new_tokens(fresh)
    response = httpx.post(fresh.accounts_url + "/oauth/v2/token/revoke", params={"token": tokens[which]})
    assert response.status_code == 200
    assert Books(fresh, tokens["access_token"]).get("/organizations").json()["code"] == 57
    after = refresh(fresh, tokens["refresh_token"]).json()
    assert ("error" in after) == (which == "refresh_token")


def test_client_credentials_grant_gives_access_only(shared: ZohoSandbox) -> None:
    body = httpx.post(
        shared.accounts_url + "/oauth/v2/token",
        params={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "scope": READ_SCOPES,
            "soid": f"ZohoBooks.{shared.organization_id}",
        },
    ).json()
    assert "refresh_token" not in body
    assert Books(shared, body["access_token"]).get("/bills", per_page=1).status_code == 200


def test_serverinfo_lists_every_dc(shared: ZohoSandbox) -> None:
    body = httpx.get(shared.urls["us"].accounts_url + "/oauth/serverinfo").json()
    assert body["locations"]["ca"] == shared.urls["ca"].accounts_url
    assert set(body["locations"]) == set(DC_CODES)


def test_grant_code_throttle_redirects_access_denied(fresh: ZohoSandbox) -> None:
    codes = [_redirect_params(_consent(fresh, fresh.accounts_url)) for _ in range(10)]
    assert all("code" in c for c in codes)
    denied = _redirect_params(_consent(fresh, fresh.accounts_url))
    assert denied == {"error": "access_denied"}
    fresh.advance(601)
    assert "code" in _redirect_params(_consent(fresh, fresh.accounts_url))
