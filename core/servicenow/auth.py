"""OAuth 2.0 client-credentials for ServiceNow as an `httpx.Auth`: callers never see a token.

Tokens come from `POST /oauth_token.do` (form-encoded; sn-ref §1). They are cached in the
`TokenStore`, refreshed `refresh_margin_s` before they run out (ServiceNow answers `expires_in: 1799`), and
minted single-flight: an `asyncio.Lock` makes 50 concurrent callers cost one token request. The token
request travels through the same `httpx.AsyncClient` as the API call, so it shares its transport, its
retries and its request counter.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

import httpx

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.servicenow.errors import ServiceNowProtocolError, ServiceNowReauthorize
from zbsn.core.servicenow.responses import json_object, raise_for_status
from zbsn.core.tokens import TokenSet, TokenStore

AuthState = Literal["ok", "reauthorise"]

TOKEN_PATH = "/oauth_token.do"  # noqa: S105 - a path, not a secret
# When a token response omits expires_in, assume ServiceNow's default lifespan (1800 s) minus one, as real
# instances answer. [I] The instance's lifespan is configurable per OAuth entity; we always obey expires_in.
DEFAULT_EXPIRES_IN_S = 1799

GRANT_REFUSED_HINT = (
    "ServiceNow refused the client-credentials grant (it answers the same 401 access_denied for every "
    "cause). "
    "Check: the client id and secret of the OAuth application; that the system property "
    "glide.oauth.inbound.client.credential.grant_type.enabled is true; and that the OAuth entity has an "
    "OAuth Application User set (the user the token acts as), with the roles to reach the tables."
)
BEARER_REJECTED_HINT = (
    "ServiceNow rejected a freshly minted access token (401 on retry). Check that the OAuth Application User "
    "is active and that the OAuth application is active; then re-authorise the connection."
)


class ServiceNowAuth(httpx.Auth):
    """Bearer auth for one ServiceNow instance via the client-credentials grant."""

    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        clock: Clock | None = None,
        refresh_margin_s: float = 120,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._store = store
        self._clock: Clock = clock or SystemClock()
        self.refresh_margin_s = refresh_margin_s
        self._lock = asyncio.Lock()
        self._tokens: TokenSet | None = None
        self._loaded = False
        self.state: AuthState = "ok"
        self.token_requests = 0

    def expires_in(self) -> float | None:
        """Seconds the cached access token has left (negative once expired); None before the first token."""
        if self._tokens is None or self._tokens.expires_at is None or self._tokens.access_token is None:
            return None
        return (self._tokens.expires_at - self._clock.now()).total_seconds()

    def _is_fresh(self, tokens: TokenSet | None) -> bool:
        if tokens is None or tokens.access_token is None or tokens.expires_at is None:
            return False
        return self._clock.now() < tokens.expires_at - timedelta(seconds=self.refresh_margin_s)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ServiceNowAuth is async-only: use it with httpx.AsyncClient")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token; on a 401 mint a new token once and resend once, then give up."""
        used: str | None = None
        async with self._lock:
            if not self._loaded:
                self._tokens = await self._store.load()
                self._loaded = True
            if not self._is_fresh(self._tokens):
                response = yield self._token_request()
                await self._accept_token_response(response)
            used = self._access_token()
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code != 401:
            return
        # 401 mid-run: the token expired early, was revoked, or the instance restarted. Mint a new one unless
        # a concurrent caller already did (single-flight), then resend this request exactly once.
        async with self._lock:
            if self._access_token() == used:
                token_response = yield self._token_request()
                await self._accept_token_response(token_response)
            used = self._access_token()
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code == 401:
            self.state = "reauthorise"
            raise ServiceNowReauthorize(BEARER_REJECTED_HINT)

    def _access_token(self) -> str:
        tokens = self._tokens
        if tokens is None or tokens.access_token is None:
            raise ServiceNowReauthorize("no access token after the grant")  # unreachable by construction
        return tokens.access_token

    def _token_request(self) -> httpx.Request:
        self.token_requests += 1
        return httpx.Request(
            "POST",
            f"{self.instance_url}{TOKEN_PATH}",
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
            headers={"Accept": "application/json"},
        )

    async def _accept_token_response(self, response: httpx.Response) -> None:
        await response.aread()
        if response.status_code in (400, 401, 403):
            self.state = "reauthorise"
            detail = response.text[:200]
            raise ServiceNowReauthorize(f"{GRANT_REFUSED_HINT} (HTTP {response.status_code}: {detail})")
        raise_for_status(response)  # 429 / 5xx: transient, the client's retry loop resends the call
        body = json_object(response)
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ServiceNowProtocolError(f"{TOKEN_PATH}: the token answer has no access_token")
        try:
            expires_in = float(body.get("expires_in", DEFAULT_EXPIRES_IN_S))
        except (TypeError, ValueError) as exc:
            raise ServiceNowProtocolError(f"{TOKEN_PATH}: expires_in is not a number") from exc
        expires_at: datetime = self._clock.now() + timedelta(seconds=expires_in)
        refresh = body.get("refresh_token")
        tokens = (self._tokens or TokenSet()).with_access(access_token, expires_at)
        if isinstance(refresh, str) and refresh:  # client_credentials answers carry none; keep one if given
            tokens = replace(tokens, refresh_token=refresh)
        await self._store.save(tokens)  # saved before first use, as the TokenStore contract asks
        self._tokens = tokens
        self.state = "ok"
