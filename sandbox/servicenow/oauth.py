"""`POST /oauth_token.do` and bearer-token checks (sn-ref §1).

Grants: `client_credentials` (only while the instance flag is on AND an application user is set),
`password` (returns a refresh token; a repeat while the access token is valid returns the same token) and
`refresh_token` (no rotation [I]: the same refresh token stays valid). Every failure is the same 401
`{"error_description":"access_denied","error":"server_error"}`; a JSON body is refused with 400 [I].
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from zbsn.core.clock import Clock

from .config import ServiceNowSandboxConfig

ACCESS_DENIED: dict[str, str] = {"error_description": "access_denied", "error": "server_error"}
NOT_AUTHENTICATED: dict[str, Any] = {
    "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
    "status": "failure",
}


@dataclass(slots=True)
class _Token:
    user: str
    client_id: str
    expires_at: datetime


class TokenService:
    """Issues and checks tokens against the live config (so admin changes apply at once)."""

    def __init__(self, config: ServiceNowSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.access: dict[str, _Token] = {}
        self.refresh: dict[str, _Token] = {}

    def reset(self) -> None:
        """Forget every issued token."""
        self.access.clear()
        self.refresh.clear()

    def user_for(self, token: str) -> str | None:
        """The user behind a live access token, or None when unknown or expired."""
        entry = self.access.get(token)
        if entry is None or entry.expires_at <= self.clock.now():
            return None
        return entry.user

    def grant(self, form: dict[str, str]) -> dict[str, Any] | None:
        """Run one token request; None means access denied."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or self.config.clients.get(client_id) != secret:
            return None
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            user = self.config.application_user
            if not self.config.client_credentials_enabled or not user:
                return None
            return self._issue(client_id, user, with_refresh=False)
        if grant_type == "password":
            user = form.get("username", "")
            if not user or self.config.users.get(user) != form.get("password"):
                return None
            return self._issue(client_id, user, with_refresh=True, reuse=True)
        if grant_type == "refresh_token":
            entry = self.refresh.get(form.get("refresh_token", ""))
            if entry is None or entry.client_id != client_id or entry.expires_at <= self.clock.now():
                return None
            body = self._issue(client_id, entry.user, with_refresh=False)
            body["refresh_token"] = form["refresh_token"]
            return body
        return None

    def _issue(self, client_id: str, user: str, *, with_refresh: bool, reuse: bool = False) -> dict[str, Any]:
        now = self.clock.now()
        lifespan = self.config.token_lifespan_seconds
        token = None
        if reuse:
            token = next(
                (
                    t
                    for t, e in self.access.items()
                    if e.user == user and e.client_id == client_id and e.expires_at > now
                ),
                None,
            )
        if token is None:
            token = secrets.token_urlsafe(48)
            self.access[token] = _Token(user, client_id, now + timedelta(seconds=lifespan))
        remaining = int((self.access[token].expires_at - now).total_seconds())
        body: dict[str, Any] = {
            "access_token": token,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": max(remaining - 1, 0),
        }
        if with_refresh:
            refresh = secrets.token_urlsafe(48)
            self.refresh[refresh] = _Token(
                user, client_id, now + timedelta(seconds=self.config.refresh_token_lifespan_seconds)
            )
            body["refresh_token"] = refresh
        return body


async def token_endpoint(request: Request, service: TokenService) -> JSONResponse:
    """Handle `POST /oauth_token.do` (form-encoded body only)."""
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" not in content_type:
        # [I] docs say a JSON body "gives an unspecified error"; the sandbox answers 400 with the same body.
        return JSONResponse(ACCESS_DENIED, status_code=400)
    if request.query_params.get("client_secret") or request.query_params.get("password"):
        return JSONResponse(ACCESS_DENIED, status_code=401)  # credentials in the query string are refused
    body_text = (await request.body()).decode("utf-8", errors="replace")
    fields = dict(parse_qsl(body_text, keep_blank_values=True))
    body = service.grant(fields)
    if body is None:
        return JSONResponse(ACCESS_DENIED, status_code=401)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
