"""OAuth token endpoint and the bearer check on /api/*."""

from __future__ import annotations

import httpx

from zbsn.sandbox.servicenow import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USER,
    ServiceNowSandbox,
)

from .conftest import fetch_token

ACCESS_DENIED = {"error_description": "access_denied", "error": "server_error"}
NOT_AUTHENTICATED = {
    "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
    "status": "failure",
}


def test_client_credentials_token_shape(sandbox: ServiceNowSandbox) -> None:
    response = fetch_token(sandbox.url)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "useraccount"
    assert body["expires_in"] == 1799
    assert "refresh_token" not in body
    assert len(body["access_token"]) > 20


def test_password_grant_returns_refresh_token_and_refresh_works(sandbox: ServiceNowSandbox) -> None:
    first = httpx.post(
        f"{sandbox.url}/oauth_token.do",
        data={
            "grant_type": "password",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "username": DEMO_USER,
            "password": DEMO_PASSWORD,
        },
    )
    assert first.status_code == 200
    refresh = first.json()["refresh_token"]
    second = httpx.post(
        f"{sandbox.url}/oauth_token.do",
        data={
            "grant_type": "refresh_token",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": refresh,
        },
    )
    assert second.status_code == 200
    assert second.json()["access_token"]
    assert second.json()["refresh_token"] == refresh


def test_wrong_password_and_wrong_secret_are_access_denied(sandbox: ServiceNowSandbox) -> None:
    bad_user = httpx.post(
        f"{sandbox.url}/oauth_token.do",
        data={
            "grant_type": "password",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "username": DEMO_USER,
            "password": "nope",
        },
    )
    bad_secret = fetch_token(sandbox.url, client_secret="nope")
    for response in (bad_user, bad_secret):
        assert response.status_code == 401
        assert response.json() == ACCESS_DENIED


def test_client_credentials_switched_off_is_refused(sandbox: ServiceNowSandbox) -> None:
    sandbox.set_client_credentials(False)
    try:
        response = fetch_token(sandbox.url)
        assert response.status_code == 401
        assert response.json() == ACCESS_DENIED
    finally:
        sandbox.set_client_credentials(True)
    assert fetch_token(sandbox.url).status_code == 200


def test_client_credentials_without_application_user_is_refused(sandbox: ServiceNowSandbox) -> None:
    response = httpx.post(f"{sandbox.url}/_admin/oauth", json={"application_user": None})
    assert response.status_code == 200
    try:
        assert fetch_token(sandbox.url).status_code == 401
    finally:
        httpx.post(f"{sandbox.url}/_admin/oauth", json={"application_user": DEMO_USER})
    assert fetch_token(sandbox.url).status_code == 200


def test_json_body_is_refused(sandbox: ServiceNowSandbox) -> None:
    response = httpx.post(
        f"{sandbox.url}/oauth_token.do",
        json={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_missing_and_unknown_bearer_get_the_401_envelope(sandbox: ServiceNowSandbox) -> None:
    missing = httpx.get(f"{sandbox.url}/api/now/table/cmn_cost_center")
    unknown = httpx.get(
        f"{sandbox.url}/api/now/table/cmn_cost_center", headers={"Authorization": "Bearer nope"}
    )
    for response in (missing, unknown):
        assert response.status_code == 401
        assert response.json() == NOT_AUTHENTICATED


def test_expired_bearer_gets_the_401_envelope(sandbox: ServiceNowSandbox) -> None:
    sandbox.set_token_lifespan(60)
    try:
        body = fetch_token(sandbox.url).json()
        assert body["expires_in"] == 59
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        assert httpx.get(f"{sandbox.url}/api/now/table/fx_currency", headers=headers).status_code == 200
        sandbox.advance_clock(61)
        expired = httpx.get(f"{sandbox.url}/api/now/table/fx_currency", headers=headers)
        assert expired.status_code == 401
        assert expired.json() == NOT_AUTHENTICATED
    finally:
        sandbox.set_token_lifespan(1800)
