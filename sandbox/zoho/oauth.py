"""Zoho Accounts (OAuth 2.0) as the sandbox plays it: clients, grant codes, refresh and access tokens.

Semantics follow zoho-ref §2: codes are single use (web 120 s, Self Client 180 s); a refresh token comes
back only on the first offline consent (or with prompt=consent); access tokens live 3600 s on the sandbox
clock; more than `mint_limit` mints per refresh token per window → HTTP 400 "Access Denied"; at most 15 live
access tokens per refresh token (the 16th evicts the oldest); 20 refresh tokens per user, FIFO. Tokens are
bound to the DC that minted them. Token-endpoint errors are HTTP 200 with an `{"error": ...}` body.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from zbsn.sandbox.zoho.clock import SandboxClock
from zbsn.sandbox.zoho.config import OAuthLimits

DEMO_CLIENT_ID = "1000.ZBSNDEMOCLIENT00000000000000000"
DEMO_CLIENT_SECRET = "zbsndemosecret0000000000000000000000000000"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/oauth/callback"
SANDBOX_USER = "finance@northwind-advisory.example"
READ_SCOPES = (
    "ZohoBooks.bills.READ,ZohoBooks.contacts.READ,ZohoBooks.vendorpayments.READ,"
    "ZohoBooks.settings.READ,ZohoBooks.accountants.READ,ZohoBooks.debitnotes.READ"
)
THROTTLED = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


@dataclass(slots=True)
class OAuthClient:
    """A registered API-console client. `loopback_redirects` also accepts any http://127.0.0.1|localhost URI
    (a sandbox convenience for CLIs on ephemeral ports; real Zoho needs an exact match)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    loopback_redirects: bool = False
    self_client: bool = False


@dataclass(slots=True)
class GrantCode:
    code: str
    client_id: str
    dc: str
    scopes: str
    redirect_uri: str | None
    expires_at: float
    issue_refresh: bool
    used: bool = False


@dataclass(slots=True)
class RefreshToken:
    token: str
    client_id: str
    dc: str
    scopes: str
    mints: deque[float] = field(default_factory=deque)
    live: deque[str] = field(default_factory=deque)
    revoked: bool = False


@dataclass(slots=True)
class AccessToken:
    token: str
    client_id: str
    dc: str
    scopes: str
    expires_at: float
    refresh_token: str | None
    revoked: bool = False


def new_token() -> str:
    """`1000.<32hex>.<32hex>`."""
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def has_scope(granted: str, needed: str) -> bool:
    """True when the comma-separated `granted` scopes cover `needed` (e.g. ZohoBooks.bills.READ)."""
    wanted = needed.lower()
    service, _, rest = wanted.partition(".")
    module = rest.split(".")[0]
    for scope in (s.strip().lower() for s in granted.split(",")):
        if scope in (wanted, f"{service}.fullaccess.all", f"{service}.{module}.all"):
            return True
    return False


class OAuthStore:
    """All OAuth state, shared by every DC's accounts server (tokens remember their DC)."""

    def __init__(self, clock: SandboxClock, limits: OAuthLimits, org_dc: str) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.limits = limits
        self.org_dc = org_dc
        self.clients: dict[str, OAuthClient] = {}
        self.codes: dict[str, GrantCode] = {}
        self.code_times: dict[str, deque[float]] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.user_refresh: deque[str] = deque()  # the one sandbox user's refresh tokens, oldest first
        self.offline_consents: set[str] = set()  # client ids the user already granted offline access
        self.register_client(
            OAuthClient(
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                [DEMO_REDIRECT_URI],
                loopback_redirects=True,
                self_client=True,
            )
        )

    def register_client(self, client: OAuthClient) -> OAuthClient:
        """Add or replace an OAuth client."""
        with self.lock:
            self.clients[client.client_id] = client
            return client

    def redirect_allowed(self, client: OAuthClient, uri: str) -> bool:
        """Exact match against the registered URIs (plus loopback hosts for `loopback_redirects`)."""
        if uri in client.redirect_uris:
            return True
        parts = urlsplit(uri)
        return (
            client.loopback_redirects
            and parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "localhost")
        )

    # ---------------------------------------------------------------------------------------- grant codes
    def consent(
        self, client_id: str, scopes: str, redirect_uri: str, offline: bool, prompt_consent: bool
    ) -> str:
        """The user approves: a web-flow code in the user's (the org's) DC; PermissionError when throttled."""
        with self.lock:
            now = self.clock.seconds()
            times = self.code_times.setdefault(client_id, deque())
            while times and times[0] <= now - self.limits.codes_window_seconds:
                times.popleft()
            if len(times) >= self.limits.codes_per_client:
                raise PermissionError("access_denied")
            times.append(now)
            issue_refresh = offline and (client_id not in self.offline_consents or prompt_consent)
            if offline:
                self.offline_consents.add(client_id)
            code = GrantCode(
                f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}",
                client_id,
                self.org_dc,
                scopes,
                redirect_uri,
                now + self.limits.code_ttl_seconds,
                issue_refresh,
            )
            self.codes[code.code] = code
            return code.code

    def self_client_code(
        self,
        scopes: str = READ_SCOPES,
        client_id: str = DEMO_CLIENT_ID,
        ttl: float | None = None,
        dc: str | None = None,
    ) -> str:
        """A Self Client code (console "Generate Code"): exchanging it yields a refresh token."""
        with self.lock:
            if client_id not in self.clients:
                raise KeyError(client_id)
            lifetime = ttl if ttl is not None else self.limits.self_client_code_ttl_seconds
            code = GrantCode(
                f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}",
                client_id,
                dc or self.org_dc,
                scopes,
                None,
                self.clock.seconds() + lifetime,
                True,
            )
            self.codes[code.code] = code
            return code.code

    # ---------------------------------------------------------------------------------------- token endpoint
    def token(self, dc: str, params: dict[str, str], api_domain: str) -> tuple[int, dict[str, Any]]:
        """Handle `POST /oauth/v2/token` at `dc`'s accounts server: (HTTP status, JSON body)."""
        with self.lock:
            grant = params.get("grant_type", "")
            client = self.clients.get(params.get("client_id", ""))
            if client is None:
                return 200, {"error": "invalid_client"}
            if grant == "authorization_code":
                code = self.codes.get(params.get("code", ""))
                if code is not None and code.dc != dc:
                    # A code presented at another DC's accounts server → invalid_client [DOC §1.2].
                    return 200, {"error": "invalid_client"}
                if params.get("client_secret") != client.client_secret:
                    return 200, {"error": "invalid_client_secret"}
                now = self.clock.seconds()
                if code is None or code.used or code.client_id != client.client_id or now >= code.expires_at:
                    return 200, {"error": "invalid_code"}
                code.used = True
                redirect = params.get("redirect_uri")
                if code.redirect_uri and redirect and redirect != code.redirect_uri:
                    return 200, {"error": "invalid_redirect_uri"}
                body: dict[str, Any] = {}
                refresh: RefreshToken | None = None
                if code.issue_refresh:
                    refresh = self._new_refresh(client.client_id, dc, code.scopes)
                    body["refresh_token"] = refresh.token
                access = self._mint(client.client_id, dc, code.scopes, refresh)
                return 200, {
                    "access_token": access.token,
                    **body,
                    "scope": code.scopes,
                    "api_domain": api_domain,
                    "token_type": "Bearer",
                    "expires_in": int(self.limits.access_ttl_seconds),
                }
            if grant == "refresh_token":
                refresh = self.refresh_tokens.get(params.get("refresh_token", ""))
                if refresh is not None and refresh.dc != dc:
                    return 200, {"error": "invalid_client"}
                if params.get("client_secret") != client.client_secret:
                    return 200, {"error": "invalid_client_secret"}
                if refresh is None or refresh.revoked or refresh.client_id != client.client_id:
                    return 200, {"error": "invalid_code"}  # refresh token deleted or revoked [DOC]
                now = self.clock.seconds()
                while refresh.mints and refresh.mints[0] <= now - self.limits.mint_window_seconds:
                    refresh.mints.popleft()
                if len(refresh.mints) >= self.limits.mint_limit:
                    return 400, dict(THROTTLED)
                access = self._mint(client.client_id, dc, refresh.scopes, refresh)
                return 200, {
                    "access_token": access.token,
                    "scope": refresh.scopes,
                    "api_domain": api_domain,
                    "token_type": "Bearer",
                    "expires_in": int(self.limits.access_ttl_seconds),
                }
            if grant == "client_credentials":
                # [INF] Self Client client_credentials grant: documented for Zoho Accounts, unverified for
                # Books. `soid` (ZohoBooks.<org id>) is accepted and ignored; no refresh token.
                if params.get("client_secret") != client.client_secret:
                    return 200, {"error": "invalid_client_secret"}
                if not client.self_client:
                    return 200, {"error": "unauthorized_client"}
                scopes = params.get("scope") or READ_SCOPES
                access = self._mint(client.client_id, dc, scopes, None)
                return 200, {
                    "access_token": access.token,
                    "scope": scopes,
                    "api_domain": api_domain,
                    "token_type": "Bearer",
                    "expires_in": int(self.limits.access_ttl_seconds),
                }
            return 200, {"error": "unsupported_grant_type"}

    def _new_refresh(self, client_id: str, dc: str, scopes: str) -> RefreshToken:
        refresh = RefreshToken(new_token(), client_id, dc, scopes)
        self.refresh_tokens[refresh.token] = refresh
        self.user_refresh.append(refresh.token)
        while len(self.user_refresh) > self.limits.refresh_tokens_per_user:
            self._revoke_refresh(self.refresh_tokens[self.user_refresh.popleft()])
        return refresh

    def _mint(self, client_id: str, dc: str, scopes: str, refresh: RefreshToken | None) -> AccessToken:
        now = self.clock.seconds()
        access = AccessToken(
            new_token(),
            client_id,
            dc,
            scopes,
            now + self.limits.access_ttl_seconds,
            refresh.token if refresh else None,
        )
        self.access_tokens[access.token] = access
        if refresh is not None:
            # [INF] the first access token (from the code exchange) counts towards the mint rate too.
            refresh.mints.append(now)
            refresh.live.append(access.token)
            while len(refresh.live) > self.limits.live_access_tokens:
                self.access_tokens[refresh.live.popleft()].revoked = True
        return access

    # ---------------------------------------------------------------------------------------- revocation
    def _revoke_refresh(self, refresh: RefreshToken) -> None:
        refresh.revoked = True
        # [INF] revoking a refresh token also kills the access tokens minted from it.
        for token in refresh.live:
            self.access_tokens[token].revoked = True
        if refresh.token in self.user_refresh:
            self.user_refresh.remove(refresh.token)

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token; False when unknown."""
        with self.lock:
            if token in self.refresh_tokens:
                self._revoke_refresh(self.refresh_tokens[token])
                return True
            if token in self.access_tokens:
                self.access_tokens[token].revoked = True
                return True
            return False

    def revoke_behind(self, access_token: str) -> None:
        """Revoke the refresh token an access token came from (fault "revoke_token"), or the token itself."""
        with self.lock:
            access = self.access_tokens.get(access_token)
            if access is None:
                return
            if access.refresh_token and access.refresh_token in self.refresh_tokens:
                self._revoke_refresh(self.refresh_tokens[access.refresh_token])
            access.revoked = True

    def check(self, dc: str, token: str) -> AccessToken | None:
        """The live access token valid at `dc`'s API domain, or None (→ 401 code 57)."""
        with self.lock:
            access = self.access_tokens.get(token)
            if access is None or access.revoked or access.dc != dc:
                return None
            if self.clock.seconds() >= access.expires_at:
                return None
            return access

    def live_access_count(self) -> int:
        """How many access tokens are currently usable (for tests)."""
        with self.lock:
            now = self.clock.seconds()
            return sum(1 for a in self.access_tokens.values() if not a.revoked and now < a.expires_at)


def redirect_url(redirect_uri: str, params: dict[str, str]) -> str:
    """`redirect_uri` plus the query parameters, keeping any query it already has."""
    return redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params)
