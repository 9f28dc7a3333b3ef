"""`/_admin/...`: plain-JSON control of the sandbox for out-of-process use (no auth: loopback only).

Every endpoint mirrors a `ZohoSandbox` method; errors answer 400 `{"error": "..."}` (404 for unknown ids).

    GET  /_admin/state                       org id, DC, sizes, clock, per-DC URLs
    POST /_admin/reset                       {"seed"?, "bills"?}: regenerate data (tokens survive)
    GET  /_admin/clock                       {"now"}
    POST /_admin/clock/advance               {"seconds"}
    POST /_admin/bills                       Zoho-shaped bill body → {"bill"}      (webhook bill.created)
    PUT  /_admin/bills/{id}                  changes → {"bill"}                     (bill.edited)
    POST /_admin/bills/{id}/void             → {"bill"}                             (bill.voided)
    POST /_admin/bills/{id}/submit           → {"bill"}: draft -> pending_approval  (bill.edited)
    POST /_admin/bills/{id}/approve          → {"bill"}: becomes open               (bill.edited)
    POST /_admin/bills/{id}/draft            {"status"?: "draft"|"pending_approval"} → {"bill"}: an approved,
                                             unpaid bill sent back for approval     (bill.edited)
    DELETE /_admin/bills/{id}                → {"deleted"}                          (bill.deleted)
    POST /_admin/vendorpayments              {"bills": [{"bill_id", "amount_applied"}]}
                                             (vendorpayment.created)
    DELETE /_admin/vendorpayments/{id}       → {"deleted"}                          (vendorpayment.deleted)
    GET|PUT /_admin/faults                   {"fault_rate", "kinds", "latency_ms", "slow_ms", "seed",
                                              "endpoints", "from_page"}
    GET|PUT /_admin/limits                   {"per_window", "window_seconds", "daily_limit", "day_seconds",
                                              "concurrency", "enabled"}
    POST /_admin/oauth/selfclient            {"scope"?, "ttl_seconds"?, "client_id"?, "dc"?} → {"code"}
    POST /_admin/oauth/clients               {"client_id", "client_secret", "redirect_uris",
                                              "loopback_redirects"?}
    POST /_admin/oauth/revoke                {"token"} or {"all_refresh_tokens": true}
    GET  /_admin/counters                    requests by endpoint, 429s by code, statuses, OAuth, faults
    GET|PUT /_admin/webhooks                 {"url", "secret", "events"?} → config + delivery log
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zbsn.sandbox.zoho import render
from zbsn.sandbox.zoho.oauth import READ_SCOPES
from zbsn.sandbox.zoho.state import InvalidRequest, NotFound

if TYPE_CHECKING:
    from zbsn.sandbox.zoho.app import ZohoSandbox

Handler = Callable[[Request, dict[str, Any]], Awaitable[Any] | Any]


def admin_routes(sandbox: ZohoSandbox) -> list[Route]:
    """The admin routes (mounted on the API ports)."""
    state = sandbox.state

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else {}
                result = handler(request, body)
                if isinstance(result, Awaitable):
                    result = await result
            except NotFound as exc:
                return JSONResponse({"error": str(exc)}, status_code=404)
            except (InvalidRequest, ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)
            return JSONResponse(result)

        return endpoint

    def bill_json(bill_id: str) -> dict[str, Any]:
        with state.lock:
            return {"bill": render.bill_detail(state, state.get_bill(bill_id))}

    def reset(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        sandbox.reset(body.get("seed"), body.get("bills"))
        return summary(request, body)

    def summary(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        with state.lock:
            return {
                "organization_id": sandbox.organization_id,
                "org_dc": sandbox.config.org_dc,
                "seed": state.company.seed,
                "bills": len(state.bills),
                "payments": len(state.payments),
                "vendors": len(state.vendors),
                "deleted_bill_ids": list(state.deleted_bill_ids),
                "deleted_payment_ids": list(state.deleted_payment_ids),
                "version": state.version,
                "now": sandbox.clock.now().isoformat(),
                "urls": {
                    dc: {"accounts": u.accounts_url, "api_domain": u.api_domain, "books": u.books_base}
                    for dc, u in sandbox.urls.items()
                },
            }

    def advance(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        sandbox.advance(float(body["seconds"]))
        return {"now": sandbox.clock.now().isoformat()}

    def clock(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"now": sandbox.clock.now().isoformat()}

    def add_bill(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return bill_json(sandbox.add_bill(body).bill_id)

    def edit_bill(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return bill_json(sandbox.edit_bill(request.path_params["bill_id"], body).bill_id)

    def void_bill(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return bill_json(sandbox.void_bill(request.path_params["bill_id"]).bill_id)

    def submit_bill(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return bill_json(sandbox.submit_bill(request.path_params["bill_id"]).bill_id)

    def approve_bill(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return bill_json(sandbox.approve_bill(request.path_params["bill_id"]).bill_id)

    def bill_to_draft(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        status = str(body.get("status") or "draft")
        return bill_json(sandbox.return_bill_to_draft(request.path_params["bill_id"], status).bill_id)

    def delete_payment(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        sandbox.delete_payment(request.path_params["payment_id"])
        return {"deleted": request.path_params["payment_id"]}

    def delete_bill(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        sandbox.delete_bill(request.path_params["bill_id"])
        return {"deleted": request.path_params["bill_id"]}

    def add_payment(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        payment = sandbox.add_payment(body)
        with state.lock:
            return {"vendorpayment": render.payment_detail(state, payment)}

    def faults(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "PUT":
            sandbox.set_faults(**body)
        return sandbox.faults.snapshot()

    def limits(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "PUT":
            sandbox.set_limits(**body)
        from dataclasses import asdict

        return asdict(sandbox.config.limits)

    def self_client(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: body[k] for k in ("client_id", "dc") if k in body}
        code = sandbox.self_client_code(
            body.get("scope", READ_SCOPES), ttl_seconds=body.get("ttl_seconds"), **kwargs
        )
        return {"code": code, "accounts_server": sandbox.accounts_url}

    def register_client(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        client = sandbox.register_client(
            body["client_id"],
            body["client_secret"],
            list(body["redirect_uris"]),
            loopback_redirects=bool(body.get("loopback_redirects", False)),
        )
        return {"client_id": client.client_id}

    def revoke(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("all_refresh_tokens"):
            return {"revoked": sandbox.revoke_all_refresh_tokens()}
        return {"revoked": int(sandbox.revoke(str(body["token"])))}

    def counters(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return sandbox.counters()

    def webhooks(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "PUT":
            sandbox.configure_webhooks(body.get("url"), str(body.get("secret", "")), body.get("events"))
        target = sandbox.webhooks.target
        return {
            "url": target.url if target else None,
            "events": sorted(target.events) if target else [],
            "deliveries": sandbox.webhooks.log(),
        }

    return [
        Route("/_admin/state", wrap(summary), methods=["GET"]),
        Route("/_admin/reset", wrap(reset), methods=["POST"]),
        Route("/_admin/clock", wrap(clock), methods=["GET"]),
        Route("/_admin/clock/advance", wrap(advance), methods=["POST"]),
        Route("/_admin/bills", wrap(add_bill), methods=["POST"]),
        Route("/_admin/bills/{bill_id}", wrap(edit_bill), methods=["PUT"]),
        Route("/_admin/bills/{bill_id}", wrap(delete_bill), methods=["DELETE"]),
        Route("/_admin/bills/{bill_id}/void", wrap(void_bill), methods=["POST"]),
        Route("/_admin/bills/{bill_id}/submit", wrap(submit_bill), methods=["POST"]),
        Route("/_admin/bills/{bill_id}/approve", wrap(approve_bill), methods=["POST"]),
        Route("/_admin/bills/{bill_id}/draft", wrap(bill_to_draft), methods=["POST"]),
        Route("/_admin/vendorpayments", wrap(add_payment), methods=["POST"]),
        Route("/_admin/vendorpayments/{payment_id}", wrap(delete_payment), methods=["DELETE"]),
        Route("/_admin/faults", wrap(faults), methods=["GET", "PUT"]),
        Route("/_admin/limits", wrap(limits), methods=["GET", "PUT"]),
        Route("/_admin/oauth/selfclient", wrap(self_client), methods=["POST"]),
        Route("/_admin/oauth/clients", wrap(register_client), methods=["POST"]),
        Route("/_admin/oauth/revoke", wrap(revoke), methods=["POST"]),
        Route("/_admin/counters", wrap(counters), methods=["GET"]),
        Route("/_admin/webhooks", wrap(webhooks), methods=["GET", "PUT"]),
    ]
