"""Zoho access tokens for one connection: proactive single-flight refresh, and the httpx Auth that uses them.

The manager refreshes `refresh_margin_s` before expiry (the 55th minute of Zoho's 60 by default), once for
all concurrent callers, and never in a loop: after the mint throttle ("Access Denied") it refuses to call the
token endpoint before the suggested time, and after a revoked refresh token it stays in "reauthorise" until an
operator authorises again. Every token it mints is saved in the store before it is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import httpx

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.tokens import TokenSet, TokenStore
from zbsn.core.zoho.errors import ZohoReauthorize, ZohoTokenThrottled, ZohoWrongDataCentre
from zbsn.core.zoho.oauth import DEFAULT_THROTTLE_WAIT_S, ConsentRedirect, TokenResponse, ZohoOAuth
from zbsn.core.zoho.regions import region_for_accounts_server

TokenState = Literal["ok", "wait", "reauthorise"]
MAX_TOKEN_LIFETIME_S = 3600.0


class ZohoTokenManager:
    """Owns one connection's tokens: hands out valid access tokens and refreshes them single-flight."""

    def __init__(
        self,
        store: TokenStore,
        client_id: str,
        client_secret: str,
        clock: Clock | None = None,
        refresh_margin_s: float = 300.0,
        *,
        http: httpx.AsyncClient | None = None,
        throttle_wait_s: float = DEFAULT_THROTTLE_WAIT_S,
    ) -> None:
        self._store = store
        self._clock: Clock = clock or SystemClock()
        self.refresh_margin_s = refresh_margin_s
        self.oauth = ZohoOAuth(client_id, client_secret, http=http, throttle_wait_s=throttle_wait_s)
        self._lock = asyncio.Lock()
        self._tokens: TokenSet | None = None
        self._loaded = False
        self._wait_until: datetime | None = None
        self._reauthorise_reason: str | None = None
        self.refresh_count = 0

    # -- state for the TUI --------------------------------------------------------------------------------
    @property
    def state(self) -> TokenState:
        """ "ok", "wait" (mint throttle, see `retry_at`) or "reauthorise" (see `reason`)."""
        if self._reauthorise_reason is not None:
            return "reauthorise"
        if self._wait_until is not None and self._clock.now() < self._wait_until:
            return "wait"
        return "ok"

    @property
    def retry_at(self) -> datetime | None:
        """When the token endpoint may be called again after the mint throttle."""
        return self._wait_until if self.state == "wait" else None

    @property
    def reason(self) -> str | None:
        """Why the connection needs re-authorisation."""
        return self._reauthorise_reason

    @property
    def tokens(self) -> TokenSet | None:
        """The token set as last loaded or saved."""
        return self._tokens

    def expires_in(self) -> float | None:
        """Seconds until the current access token expires (negative once expired), None without one."""
        if self._tokens is None or self._tokens.expires_at is None or self._tokens.access_token is None:
            return None
        return (self._tokens.expires_at - self._clock.now()).total_seconds()

    def auth(self, before_retry: Callable[[], Awaitable[None]] | None = None) -> ZohoAuth:
        """An httpx Auth that signs requests with this manager's tokens."""
        return ZohoAuth(self, before_retry=before_retry)

    # -- authorisation ------------------------------------------------------------------------------------
    async def authorize_with_redirect(self, redirect: ConsentRedirect, redirect_uri: str) -> TokenSet:
        """Exchange the consent redirect's code at the accounts server that minted it; persist everything."""
        response = await self.oauth.exchange_code(
            redirect.accounts_server, redirect.code, now=self._clock.now(), redirect_uri=redirect_uri
        )
        return await self._adopt(response, redirect.accounts_server, redirect.dc)

    async def authorize_self_client(self, accounts_server: str, code: str) -> TokenSet:
        """Exchange a Self Client grant code (generated in the console of the user's DC)."""
        response = await self.oauth.exchange_code(accounts_server, code, now=self._clock.now())
        region = region_for_accounts_server(accounts_server)
        return await self._adopt(response, accounts_server, region.location if region else None)

    async def _adopt(self, response: TokenResponse, accounts_server: str, dc: str | None) -> TokenSet:
        if response.refresh_token is None:
            raise ZohoReauthorize(
                "Zoho returned no refresh token: consent again with access_type=offline&prompt=consent",
                error="no_refresh_token",
            )
        async with self._lock:
            tokens = TokenSet(
                access_token=response.access_token,
                expires_at=self._clock.now() + timedelta(seconds=response.expires_in),
                refresh_token=response.refresh_token,
                api_domain=response.api_domain,
                accounts_server=accounts_server.rstrip("/"),
                dc=dc,
            )
            await self._store.save(tokens)
            self._tokens, self._loaded = tokens, True
            self._wait_until = None
            self._reauthorise_reason = None
            return tokens

    async def revoke(self) -> None:
        """Revoke the refresh token at Zoho and forget the tokens locally."""
        async with self._lock:
            tokens = await self._load()
            if tokens and tokens.refresh_token and tokens.accounts_server:
                await self.oauth.revoke(tokens.accounts_server, tokens.refresh_token, now=self._clock.now())
            cleared = TokenSet(api_domain=tokens.api_domain if tokens else None)
            await self._store.save(cleared)
            self._tokens = cleared
            self._reauthorise_reason = "the connection was revoked"

    # -- tokens ---------------------------------------------------------------------------------------------
    async def _load(self) -> TokenSet | None:
        if not self._loaded:
            self._tokens = await self._store.load()
            self._loaded = True
        return self._tokens

    def _remaining(self, tokens: TokenSet | None) -> float:
        if tokens is None or tokens.access_token is None or tokens.expires_at is None:
            return float("-inf")
        return (tokens.expires_at - self._clock.now()).total_seconds()

    async def api_domain(self) -> str:
        """The API domain the tokens were minted for (persisted from the token response)."""
        tokens = await self._load()
        if tokens is None or not tokens.api_domain:
            raise ZohoReauthorize(
                "no api_domain stored for this connection: authorise first", error="no_tokens"
            )
        return tokens.api_domain

    async def access_token(self) -> str:
        """A token with at least `refresh_margin_s` left, refreshing first if needed."""
        tokens = await self.ensure_valid(self.refresh_margin_s)
        assert tokens.access_token is not None
        return tokens.access_token

    async def ensure_valid(self, min_remaining_s: float | None = None) -> TokenSet:
        """Make sure the access token stays valid for `min_remaining_s` (refreshing once if not).

        Call it before a long wait (e.g. a rate-limit pause) so the request after the wait carries a live
        token. During a mint-throttle wait the current token is still handed out while it has not expired.
        """
        wanted = (
            self.refresh_margin_s if min_remaining_s is None else min(min_remaining_s, MAX_TOKEN_LIFETIME_S)
        )
        tokens = await self._load()
        if self._remaining(tokens) >= wanted and self._reauthorise_reason is None:
            assert tokens is not None
            return tokens
        async with self._lock:
            tokens = self._tokens
            if self._remaining(tokens) >= wanted and self._reauthorise_reason is None:
                assert tokens is not None
                return tokens
            return await self._refresh_locked(tokens)

    async def refresh_after_rejection(self, rejected_token: str) -> str:
        """Zoho refused `rejected_token` (401 code 57): refresh unless a concurrent caller already did."""
        async with self._lock:
            tokens = self._tokens
            if tokens is not None and tokens.access_token and tokens.access_token != rejected_token:
                if self._remaining(tokens) > 0:
                    return tokens.access_token
            refreshed = await self._refresh_locked(tokens)
            assert refreshed.access_token is not None
            return refreshed.access_token

    async def _refresh_locked(self, tokens: TokenSet | None) -> TokenSet:
        if self._reauthorise_reason is not None:
            raise ZohoReauthorize(self._reauthorise_reason)
        if tokens is None or not tokens.refresh_token or not tokens.accounts_server:
            self._reauthorise_reason = "no refresh token stored for this connection: authorise first"
            raise ZohoReauthorize(self._reauthorise_reason, error="no_tokens")
        now = self._clock.now()
        if self._wait_until is not None and now < self._wait_until:
            if self._remaining(tokens) > 0:
                return tokens  # still valid: use it rather than poke the throttled endpoint
            raise ZohoTokenThrottled(
                "Zoho throttled token minting; waiting before asking again", retry_at=self._wait_until
            )
        try:
            response = await self.oauth.refresh(tokens.accounts_server, tokens.refresh_token, now=now)
        except ZohoTokenThrottled as exc:
            self._wait_until = exc.retry_at
            if self._remaining(tokens) > 0:
                return tokens
            raise
        except ZohoReauthorize as exc:
            self._reauthorise_reason = str(exc)
            raise
        self.refresh_count += 1
        self._wait_until = None
        refreshed = TokenSet(
            access_token=response.access_token,
            expires_at=self._clock.now() + timedelta(seconds=response.expires_in),
            refresh_token=tokens.refresh_token,
            api_domain=response.api_domain or tokens.api_domain,
            accounts_server=tokens.accounts_server,
            dc=tokens.dc,
        )
        await self._store.save(refreshed)  # persisted before anyone uses it
        self._tokens = refreshed
        return refreshed

    def mark_reauthorise(self, reason: str) -> None:
        """Record that Zoho keeps refusing fresh tokens: stop refreshing until an operator authorises."""
        self._reauthorise_reason = reason


def _origin(url: httpx.URL | str) -> str:
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _zoho_code(response: httpx.Response) -> int | None:
    await response.aread()
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


class ZohoAuth(httpx.Auth):
    """Adds `Authorization: Zoho-oauthtoken …`; on 401 code 57 refreshes once and retries once.

    A second rejection raises `ZohoReauthorize` (or `ZohoWrongDataCentre` when the request went to another
    API domain than the token's). `before_retry` lets the caller's rate budget admit the extra request.
    """

    def __init__(
        self, manager: ZohoTokenManager, before_retry: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.manager = manager
        self.before_retry = before_retry

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ZohoAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.manager.access_token()
        request.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        response = yield request
        if response.status_code != 401 or await _zoho_code(response) != 57:
            return
        token_domain = self.manager.tokens.api_domain if self.manager.tokens else None
        if token_domain and _origin(token_domain) != _origin(request.url):
            raise ZohoWrongDataCentre(_origin(request.url), token_domain)
        token = await self.manager.refresh_after_rejection(token)
        if self.before_retry is not None:
            await self.before_retry()
        request.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        response = yield request
        if response.status_code == 401 and await _zoho_code(response) == 57:
            reason = (
                f"Zoho refused a freshly minted token at {_origin(request.url)} (401 code 57): the grant "
                "lacks a scope for this call, or the refresh token was revoked; authorise again"
            )
            self.manager.mark_reauthorise(reason)
            raise ZohoReauthorize(reason, error="rejected_token")
