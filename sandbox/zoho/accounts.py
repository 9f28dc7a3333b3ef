"""The accounts-server routes of every DC: consent, token, revoke, serverinfo (zoho-ref §2.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from zbsn.sandbox.zoho.oauth import redirect_url

if TYPE_CHECKING:
    from zbsn.sandbox.zoho.app import ZohoSandbox


def accounts_routes(sandbox: ZohoSandbox) -> list[Route]:
    """Routes served on each DC's accounts port."""
    oauth = sandbox.oauth

    async def authorize(request: Request) -> Response:
        # The sandbox user approves at once; the code is minted in the user's (the org's) DC, wherever the
        # consent started, and the redirect names that DC (`location`, `accounts-server`).
        q = request.query_params
        client = oauth.clients.get(q.get("client_id", ""))
        if client is None:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        redirect_uri = q.get("redirect_uri", "")
        if not oauth.redirect_allowed(client, redirect_uri):
            return JSONResponse({"error": "invalid_redirect_uri"}, status_code=400)
        if q.get("response_type") != "code":
            return RedirectResponse(redirect_url(redirect_uri, {"error": "unsupported_response_type"}), 302)
        if not q.get("scope"):
            return RedirectResponse(redirect_url(redirect_uri, {"error": "invalid_scope"}), 302)
        offline = q.get("access_type", "online").lower() == "offline"  # default online [DOC]
        try:
            code = oauth.consent(
                client.client_id, q["scope"], redirect_uri, offline, q.get("prompt") == "consent"
            )
        except PermissionError:
            return RedirectResponse(redirect_url(redirect_uri, {"error": "access_denied"}), 302)
        home = sandbox.dc_urls(sandbox.config.org_dc)
        params = {"code": code, "location": home.dc, "accounts-server": home.accounts_url}
        if "state" in q:
            params["state"] = q["state"]
        return RedirectResponse(redirect_url(redirect_uri, params), 302)

    async def token(request: Request) -> Response:
        dc: str = request.scope["zoho_dc"]
        if "application/json" in request.headers.get("content-type", ""):
            return JSONResponse({"error": "invalid_client"})  # a JSON body does not work [DOC]
        params = dict(request.query_params)
        if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
            params.update({k: str(v) for k, v in (await request.form()).items()})
        status, body = oauth.token(dc, params, sandbox.dc_urls(dc).api_domain)
        sandbox.count_oauth(params.get("grant_type", ""), body)
        return JSONResponse(body, status_code=status)

    async def token_get(request: Request) -> Response:
        return JSONResponse({"error": "server_error"}, status_code=500)  # POST only; a GET fails [DOC]

    async def revoke(request: Request) -> Response:
        params = dict(request.query_params)
        if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
            params.update({k: str(v) for k, v in (await request.form()).items()})
        oauth.revoke(params.get("token", ""))
        # [INF] Zoho's exact revoke response is undocumented; unknown tokens answer the same.
        return JSONResponse({"status": "success"})

    async def serverinfo(request: Request) -> Response:
        # [INF] exact shape; clients read `locations`.
        locations = {dc: sandbox.dc_urls(dc).accounts_url for dc in sandbox.urls}
        return JSONResponse({"result": "success", "locations": locations})

    return [
        Route("/oauth/v2/auth", authorize, methods=["GET"]),
        Route("/oauth/v2/token", token, methods=["POST"]),
        Route("/oauth/v2/token", token_get, methods=["GET"]),
        Route("/oauth/v2/token/revoke", revoke, methods=["POST"]),
        Route("/oauth/serverinfo", serverinfo, methods=["GET"]),
    ]
