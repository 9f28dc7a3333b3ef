"""`/_admin/...`: plain-JSON control of the sandbox on loopback (no auth, no faults, no rate limits).

POST /_admin/reset                         {}                                      reseed from the Company
POST /_admin/clock/advance                 {"seconds": 1800}
POST /_admin/cost_centers                  {"account_number": "CC-X", "name": "..."}
POST /_admin/gl_accounts                   {"number": "6100", "name": "..."}
POST /_admin/suppliers                     {"erp_supplier_code": "SUP-1", "name": "..."}
POST /_admin/oauth                         {"client_credentials_enabled"?, "application_user"?,
                                            "client_id"?, "client_secret"?, "token_lifespan_seconds"?,
                                            "username"?, "password"?}
POST /_admin/faults                        FaultConfig fields, e.g. {"hibernating": true}
POST /_admin/rate_limits                   {"rules": [{"limit": 5, "window_seconds": 3600, "api": "table"}]}
POST /_admin/import_settings/{table}       {"mode": "sync"|"async", "column_mapping": "label"|"name"}
POST /_admin/acl/{table}                   {"denied": ["create"]}
GET  /_admin/counters                      requests by path, by status, 429s, injected faults
GET  /_admin/tables/{table}                raw records
GET  /_admin/config                        the live config

After staging (what the AP team does in ServiceNow, and the instance's scheduled jobs):
POST /_admin/lifecycle                     {"auto_approve"?, "processing_interval_seconds"?,
                                            "import_set_retention_days"?,
                                            "row_error_comment"?, "enforce_documented_mandatory"?,
                                            "batch_api_enabled"?}
POST /_admin/jobs/{job}                    {}  invoice_processing | import_set_deleter, run now
POST /_admin/invoices/{sys_id}/validate    {}  the exception engine on one invoice, then move it on
POST /_admin/invoices/{sys_id}/approve     {}  pending approval -> approved (+ outbound record, New)
POST /_admin/invoices/{sys_id}/send_to_erp {}  a new outbound record for an approved invoice
POST /_admin/exceptions/{table}/{sys_id}/resolve  {"bypass_reason"?}  resolved (or bypassed), re-checked
POST /_admin/supplier_details              {"erp_supplier_code", "legal_entity"?, "payment_term"?,
                                            "hold_payment"?, "hold_posting"?, "remove"?}

Metadata (what a pre-flight reads):
POST /_admin/metadata/columns/{table}/{column}/remove     (and .../restore)
POST /_admin/metadata/transform_maps/{table}/remove       (and .../restore)
POST /_admin/metadata/coalesce/{table}     {"columns": [...] | null}
POST /_admin/metadata/roles/{user_name}    {"roles": [...]}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .config import FaultConfig, RateLimitRule
from .state import Database

if TYPE_CHECKING:
    from .app import ServiceNowSandbox


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def admin_routes(sandbox: ServiceNowSandbox) -> list[Route]:
    """The admin routes bound to one sandbox."""

    def handler(action: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                result = action(request.path_params, await _body(request))
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse({"ok": True} if result is None else result)

        return endpoint

    def oauth(_: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "client_credentials_enabled" in body:
            sandbox.set_client_credentials(
                bool(body["client_credentials_enabled"]), body.get("application_user", "keep")
            )
        elif "application_user" in body:
            sandbox.config.application_user = body["application_user"]
        if "client_id" in body:
            sandbox.set_oauth_client(body["client_id"], body.get("client_secret", ""), replace=False)
        if "token_lifespan_seconds" in body:
            sandbox.set_token_lifespan(int(body["token_lifespan_seconds"]))
        if "username" in body:
            sandbox.set_user(body["username"], body.get("password", ""))
        return sandbox.config_snapshot()

    def faults(_: dict[str, Any], body: dict[str, Any]) -> None:
        if "kinds" in body:
            body["kinds"] = tuple(body["kinds"])
        sandbox.set_faults(FaultConfig(**body))

    def rate_limits(_: dict[str, Any], body: dict[str, Any]) -> None:
        sandbox.set_rate_limits([RateLimitRule(**rule) for rule in body.get("rules", [])])

    def table(params: dict[str, Any], _: dict[str, Any]) -> dict[str, Any]:
        name = params["table"]
        if not Database.has_table(name):
            raise ValueError(f"unknown table {name}")
        return {"result": sandbox.table(name)}

    return [
        Route("/_admin/reset", handler(lambda p, b: sandbox.reset()), methods=["POST"]),
        Route(
            "/_admin/clock/advance",
            handler(lambda p, b: sandbox.advance_clock(float(b["seconds"]))),
            methods=["POST"],
        ),
        Route(
            "/_admin/cost_centers",
            handler(lambda p, b: {"result": sandbox.create_cost_center(**b)}),
            methods=["POST"],
        ),
        Route(
            "/_admin/gl_accounts",
            handler(lambda p, b: {"result": sandbox.create_gl_account(**b)}),
            methods=["POST"],
        ),
        Route(
            "/_admin/suppliers",
            handler(lambda p, b: {"result": sandbox.create_supplier(**b)}),
            methods=["POST"],
        ),
        Route("/_admin/oauth", handler(oauth), methods=["POST"]),
        Route("/_admin/faults", handler(faults), methods=["POST"]),
        Route("/_admin/rate_limits", handler(rate_limits), methods=["POST"]),
        Route(
            "/_admin/import_settings/{table}",
            handler(
                lambda p, b: sandbox.set_import_mode(
                    p["table"], b.get("mode", "async"), b.get("column_mapping", "label")
                )
            ),
            methods=["POST"],
        ),
        Route(
            "/_admin/acl/{table}",
            handler(lambda p, b: sandbox.set_acl(p["table"], set(b.get("denied", [])))),
            methods=["POST"],
        ),
        Route("/_admin/lifecycle", handler(lambda p, b: sandbox.set_lifecycle(**b)), methods=["POST"]),
        Route("/_admin/jobs/{job}", handler(lambda p, b: sandbox.run_job(p["job"])), methods=["POST"]),
        Route(
            "/_admin/invoices/{sys_id}/{action}",
            handler(lambda p, b: {"result": _invoice_action(sandbox, p["sys_id"], p["action"])}),
            methods=["POST"],
        ),
        Route(
            "/_admin/exceptions/{table}/{sys_id}/resolve",
            handler(
                lambda p, b: {
                    "result": sandbox.resolve_exception(p["table"], p["sys_id"], b.get("bypass_reason", ""))
                }
            ),
            methods=["POST"],
        ),
        Route(
            "/_admin/supplier_details",
            handler(lambda p, b: {"result": sandbox.set_supplier_detail(**b)}),
            methods=["POST"],
        ),
        Route(
            "/_admin/metadata/columns/{table}/{column}/{action}",
            handler(lambda p, b: _column_action(sandbox, p["table"], p["column"], p["action"])),
            methods=["POST"],
        ),
        Route(
            "/_admin/metadata/transform_maps/{table}/{action}",
            handler(lambda p, b: _map_action(sandbox, p["table"], p["action"])),
            methods=["POST"],
        ),
        Route(
            "/_admin/metadata/coalesce/{table}",
            handler(
                lambda p, b: sandbox.set_coalesce(
                    p["table"], None if b.get("columns") is None else tuple(b["columns"])
                )
            ),
            methods=["POST"],
        ),
        Route(
            "/_admin/metadata/roles/{user}",
            handler(lambda p, b: sandbox.set_roles(p["user"], set(b.get("roles", [])))),
            methods=["POST"],
        ),
        Route("/_admin/counters", handler(lambda p, b: sandbox.counters_snapshot()), methods=["GET"]),
        Route("/_admin/tables/{table}", handler(table), methods=["GET"]),
        Route("/_admin/config", handler(lambda p, b: sandbox.config_snapshot()), methods=["GET"]),
    ]


def _invoice_action(sandbox: ServiceNowSandbox, sys_id: str, action: str) -> Any:
    actions = {
        "validate": sandbox.validate_invoice,
        "approve": sandbox.approve_invoice,
        "send_to_erp": sandbox.send_to_erp,
    }
    if action not in actions:
        raise ValueError(f"unknown invoice action {action!r} (one of {', '.join(actions)})")
    return actions[action](sys_id)


def _column_action(sandbox: ServiceNowSandbox, table: str, column: str, action: str) -> None:
    if action not in ("remove", "restore"):
        raise ValueError("action is remove or restore")
    (sandbox.remove_column if action == "remove" else sandbox.restore_column)(table, column)


def _map_action(sandbox: ServiceNowSandbox, table: str, action: str) -> None:
    if action not in ("remove", "restore"):
        raise ValueError("action is remove or restore")
    (sandbox.remove_transform_map if action == "remove" else sandbox.restore_transform_map)(table)
