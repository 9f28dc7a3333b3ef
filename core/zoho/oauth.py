"""Zoho Accounts OAuth 2.0 (zoho-ref §2): consent URL, redirect parsing, code exchange, refresh, revoke.

Every token call is a form-encoded POST to `{accounts_server}/oauth/v2/token` on the accounts server of the
user's DC (from the consent redirect). Zoho reports most token errors with HTTP 200 and `{"error": ...}`;
they are mapped here to `ZohoReauthorize` (operator action) or `ZohoTokenThrottled` (wait), distinct from
`ZohoTransportError` (network, 5xx).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from zbsn.core.tls import tls_context
from zbsn.core.zoho.errors import (
    ZohoConsentError,
    ZohoReauthorize,
    ZohoTokenThrottled,
    ZohoTransportError,
)
from zbsn.core.zoho.regions import region_for_accounts_server, region_for_location

# Minimal read set (zoho-ref §2.2): settings for organizations/tags/locations, accountants for the chart.
DEFAULT_SCOPES: tuple[str, ...] = (
    "ZohoBooks.bills.READ",
    "ZohoBooks.contacts.READ",
    "ZohoBooks.vendorpayments.READ",
    "ZohoBooks.settings.READ",
    "ZohoBooks.accountants.READ",
    "ZohoBooks.debitnotes.READ",  # vendor credits (zoho-ref §2: debitnotes names them)
)
SCOPE_STRING = ",".join(DEFAULT_SCOPES)

# [INF] practitioners report the mint throttle clears after ~15-30 min of inactivity (zoho-ref §2.5).
DEFAULT_THROTTLE_WAIT_S = 1800.0
TOKEN_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A consent URL to open in the browser and the `state` its redirect must echo."""

    url: str
    state: str


@dataclass(frozen=True, slots=True)
class ConsentRedirect:
    """What Zoho's consent redirect carried: the grant code and where it was minted."""

    code: str
    location: str | None
    accounts_server: str
    state: str | None

    @property
    def dc(self) -> str | None:
        """The data-centre code, from `location` or else from the accounts server."""
        if self.location:
            return self.location.lower()
        region = region_for_accounts_server(self.accounts_server)
        return region.location if region else None


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """A successful token-endpoint answer."""

    access_token: str = field(repr=False)
    expires_in: float
    api_domain: str | None
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None


def build_consent_url(
    accounts_server: str,
    client_id: str,
    redirect_uri: str,
    *,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    state: str | None = None,
) -> ConsentRequest:
    """The `/oauth/v2/auth` URL with offline access and forced consent (so a refresh token comes back)."""
    state = state or secrets.token_urlsafe(24)
    query = urlencode(
        {
            "scope": ",".join(scopes),
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
        }
    )
    return ConsentRequest(url=f"{accounts_server.rstrip('/')}/oauth/v2/auth?{query}", state=state)


def parse_redirect(redirect: str | dict[str, str], expected_state: str | None) -> ConsentRedirect:
    """Read a consent redirect (full URL, query string or parsed params); verify `state` when expected.

    Raises `ZohoConsentError` when the user refused, the code is missing or the state does not match.
    """
    if isinstance(redirect, dict):
        params = dict(redirect)
    else:
        query = urlsplit(redirect).query if "://" in redirect or redirect.startswith("/") else redirect
        params = {key: values[0] for key, values in parse_qs(query.lstrip("?")).items()}
    if expected_state is not None and not secrets.compare_digest(params.get("state", ""), expected_state):
        raise ZohoConsentError("consent redirect carries a state that is not ours; ignoring it")
    if "error" in params:
        raise ZohoConsentError(f"consent refused: {params['error']}")
    code = params.get("code")
    if not code:
        raise ZohoConsentError("consent redirect carries no code")
    location = params.get("location") or None
    accounts_server = params.get("accounts-server") or ""
    if not accounts_server:
        region = region_for_location(location) if location else None
        if region is None:
            raise ZohoConsentError("consent redirect names neither accounts-server nor a known location")
        accounts_server = region.accounts_server
    return ConsentRedirect(
        code=code, location=location, accounts_server=accounts_server.rstrip("/"), state=params.get("state")
    )


def _error_text(body: dict[str, Any]) -> str:
    error = str(body.get("error", ""))
    description = body.get("error_description")
    return f"{error}: {description}" if description else error


def _raise_for_token_error(
    response: httpx.Response, grant: str, now: datetime, throttle_wait_s: float
) -> None:
    if response.status_code >= 500:
        raise ZohoTransportError(f"token endpoint answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ZohoTransportError(f"token endpoint answered HTTP {response.status_code} without JSON") from exc
    if not isinstance(body, dict):
        raise ZohoTransportError("token endpoint answered with a non-object")
    error = body.get("error")
    if error is None and response.status_code < 400:
        return
    text = _error_text(body) or f"HTTP {response.status_code}"
    if str(error).lower() in {"access denied", "access_denied"}:
        raise ZohoTokenThrottled(
            f"Zoho throttled token minting ({text})", retry_at=now + timedelta(seconds=throttle_wait_s)
        )
    if error == "invalid_code" and grant == "refresh_token":
        raise ZohoReauthorize(
            "the refresh token was revoked or deleted: authorise again", error="invalid_code"
        )
    if error == "invalid_code":
        raise ZohoReauthorize(
            "the grant code expired or was already used: consent again", error="invalid_code"
        )
    if error in {"invalid_client", "invalid_client_secret"}:
        raise ZohoReauthorize(
            f"Zoho rejected the client ({error}): check client id/secret and that the token call goes to "
            "the accounts server of the user's data centre",
            error=str(error),
        )
    raise ZohoReauthorize(f"token endpoint refused the {grant} grant: {text}", error=str(error or ""))


def _token_response(body: dict[str, Any]) -> TokenResponse:
    return TokenResponse(
        access_token=str(body["access_token"]),
        expires_in=float(body.get("expires_in", 3600)),
        api_domain=str(body["api_domain"]).rstrip("/") if body.get("api_domain") else None,
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        scope=str(body["scope"]) if body.get("scope") else None,
    )


class ZohoOAuth:
    """Calls to the token endpoint of any accounts server, for one OAuth client."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.AsyncClient | None = None,
        throttle_wait_s: float = DEFAULT_THROTTLE_WAIT_S,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self.throttle_wait_s = throttle_wait_s

    async def _post(self, url: str, data: dict[str, str], grant: str, now: datetime) -> dict[str, Any]:
        http = self._http or httpx.AsyncClient(timeout=TOKEN_TIMEOUT_S, verify=tls_context())
        try:
            response = await http.post(url, data=data)
        except httpx.HTTPError as exc:
            raise ZohoTransportError(f"token endpoint unreachable: {exc!r}") from exc
        finally:
            if self._http is None:
                await http.aclose()
        _raise_for_token_error(response, grant, now, self.throttle_wait_s)
        body: dict[str, Any] = response.json()
        return body

    async def exchange_code(
        self, accounts_server: str, code: str, *, now: datetime, redirect_uri: str | None = None
    ) -> TokenResponse:
        """Exchange a grant code at the accounts server that minted it (web flow, or Self Client without
        `redirect_uri`)."""
        data = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": code,
        }
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        body = await self._post(_token_url(accounts_server), data, "authorization_code", now)
        if "access_token" not in body:
            raise ZohoReauthorize("token endpoint returned no access token", error="no_access_token")
        return _token_response(body)

    async def refresh(self, accounts_server: str, refresh_token: str, *, now: datetime) -> TokenResponse:
        """Mint a new access token from the refresh token."""
        data = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "refresh_token": refresh_token,
        }
        body = await self._post(_token_url(accounts_server), data, "refresh_token", now)
        if "access_token" not in body:
            raise ZohoReauthorize("token endpoint returned no access token", error="no_access_token")
        return _token_response(body)

    async def revoke(self, accounts_server: str, token: str, *, now: datetime) -> None:
        """Revoke a refresh (or access) token."""
        await self._post(f"{_token_url(accounts_server)}/revoke", {"token": token}, "revoke", now)


def _token_url(accounts_server: str) -> str:
    return f"{accounts_server.rstrip('/')}/oauth/v2/token"
