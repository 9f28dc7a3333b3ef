"""`create_zoho_sandbox(company, config)`: one ASGI app, 18 loopback ports (API domain + accounts per DC)."""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections import Counter
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from zbsn.sandbox.company import Bill, Company, VendorPayment
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.serve import LoopbackServer
from zbsn.sandbox.zoho import render
from zbsn.sandbox.zoho.accounts import accounts_routes
from zbsn.sandbox.zoho.admin import admin_routes
from zbsn.sandbox.zoho.api import BooksApi
from zbsn.sandbox.zoho.clock import SandboxClock
from zbsn.sandbox.zoho.config import PLAN_DAILY_LIMITS, FaultConfig, RateLimits, SandboxConfig
from zbsn.sandbox.zoho.dcs import DATA_CENTRES, DC_CODES, DcUrls, PortRole, assign_ports
from zbsn.sandbox.zoho.faults import FaultInjector
from zbsn.sandbox.zoho.limits import RateLimiter
from zbsn.sandbox.zoho.oauth import DEMO_CLIENT_ID, READ_SCOPES, OAuthClient, OAuthStore
from zbsn.sandbox.zoho.state import BooksState
from zbsn.sandbox.zoho.webhooks import WebhookEmitter

log = logging.getLogger(__name__)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Zoho's answer to a fault of its own (reference: code 1000, HTTP 500, "Internal error")."""
    return JSONResponse({"code": 1000, "message": "Internal error"}, status_code=500)


class ZohoSandbox:
    """A Zoho Books + Zoho Accounts simulator over real HTTP; see the package docstring for the tour."""

    def __init__(self, company: Company | None = None, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        if self.config.org_dc not in DATA_CENTRES:
            raise ValueError(f"unknown DC {self.config.org_dc!r}; one of {DC_CODES}")
        self.clock = SandboxClock(self.config.start_time)
        company = company or generate_company(self.config.seed, self.config.bills)
        self.state = BooksState(company, self.clock)
        self.oauth = OAuthStore(self.clock, self.config.oauth, self.config.org_dc)
        self.limiter = RateLimiter(
            self.clock, self.config.limits, self._plan_daily(company), company.organization.time_zone
        )
        self.faults = FaultInjector(self.config.faults)
        self.webhooks = WebhookEmitter()
        self.oauth_counts: Counter[str] = Counter()
        errors = {Exception: internal_error}
        self.api_app = Starlette(
            routes=[*BooksApi(self).routes(), *admin_routes(self)], exception_handlers=errors
        )
        self.accounts_app = Starlette(routes=accounts_routes(self), exception_handlers=errors)
        self.server: LoopbackServer | None = None
        self.urls: dict[str, DcUrls] = {}
        self._roles: dict[int, PortRole] = {}

    @staticmethod
    def _plan_daily(company: Company) -> int:
        return PLAN_DAILY_LIMITS.get(company.organization.plan_name, 5000)

    # ------------------------------------------------------------------------------------------- serving
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        role = self._roles.get(scope["server"][1]) if scope.get("server") else None
        if role is None:
            await JSONResponse({"code": 5, "message": "Invalid URL Passed"}, status_code=404)(
                scope, receive, send
            )
            return
        scope["zoho_dc"] = role.dc
        app = self.accounts_app if role.kind == "accounts" else self.api_app
        finished = False

        async def tracked(message: Message) -> None:
            nonlocal finished
            finished = message["type"] == "http.response.body" and not message.get("more_body", False)
            await send(message)

        try:
            await app(scope, receive, tracked)
        except Exception:
            # Zoho answers a fault of its own with HTTP 500 code 1000 "Internal error" on a connection that
            # stays open. Starlette sends that answer (`internal_error`) and then re-raises, and uvicorn would
            # drop the keep-alive connection, which a client sees as a transport error instead of the 500.
            if not finished:
                raise
            log.exception("the Zoho sandbox failed on %s", scope.get("path"))

    def start(self) -> ZohoSandbox:
        """Serve every DC on loopback (2 ports per DC) and fill `urls`."""
        server = LoopbackServer(self, count=2 * len(DC_CODES))
        # Without TCP_NODELAY, small keep-alive responses (headers and body in two writes) stall ~40 ms on
        # Nagle + delayed ACK. Accepted sockets inherit the flag from the listener on Linux. (Belongs in
        # sandbox/serve.py's _bind; set here until it is.)
        for sock in getattr(server, "_sockets", []):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._roles = assign_ports(server.ports)
        by_role = {
            (self._roles[port].dc, self._roles[port].kind): url
            for port, url in zip(server.ports, server.urls, strict=True)
        }
        self.urls = {dc: DcUrls(dc, by_role[(dc, "accounts")], by_role[(dc, "api")]) for dc in DC_CODES}
        self.server = server.start()
        return self

    def stop(self) -> None:
        """Stop serving and the webhook worker."""
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.webhooks.close()

    def __enter__(self) -> ZohoSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------- URLs
    def dc_urls(self, dc: str) -> DcUrls:
        """Loopback URLs of one DC (after `start`)."""
        return self.urls[dc]

    @property
    def accounts_url(self) -> str:
        """The org DC's accounts server."""
        return self.urls[self.config.org_dc].accounts_url

    @property
    def api_domain(self) -> str:
        """The org DC's API domain (what token responses return as `api_domain`)."""
        return self.urls[self.config.org_dc].api_domain

    @property
    def books_base(self) -> str:
        """The org DC's Books v3 base URL."""
        return self.urls[self.config.org_dc].books_base

    @property
    def admin_url(self) -> str:
        """Base of the admin endpoints (the first API port)."""
        return self.urls[DC_CODES[0]].api_domain + "/_admin"

    @property
    def organization_id(self) -> str:
        """The one organisation's id."""
        return self.state.company.organization.organization_id

    # ------------------------------------------------------------------------------------------- OAuth
    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        *,
        loopback_redirects: bool = False,
    ) -> OAuthClient:
        """Register an API-console client (the demo client `DEMO_CLIENT_ID` exists already)."""
        return self.oauth.register_client(
            OAuthClient(client_id, client_secret, list(redirect_uris), loopback_redirects=loopback_redirects)
        )

    def self_client_code(
        self,
        scopes: str = READ_SCOPES,
        *,
        ttl_seconds: float | None = None,
        client_id: str = DEMO_CLIENT_ID,
        dc: str | None = None,
    ) -> str:
        """A Self Client grant code (default 3 min), exchangeable at the org DC's token endpoint."""
        return self.oauth.self_client_code(scopes, client_id, ttl_seconds, dc)

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token now."""
        return self.oauth.revoke(token)

    def revoke_all_refresh_tokens(self) -> int:
        """Revoke every refresh token (and their access tokens); returns how many."""
        with self.oauth.lock:
            live = [t for t, r in self.oauth.refresh_tokens.items() if not r.revoked]
            for token in live:
                self.oauth.revoke(token)
            return len(live)

    def count_oauth(self, grant: str, body: dict[str, Any]) -> None:
        """Tally token-endpoint outcomes (used by the accounts routes)."""
        self.oauth_counts[f"{grant or 'none'}:{body.get('error', 'ok')}"] += 1

    # ------------------------------------------------------------------------------------------- time
    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (token/code expiry, rate windows, daily reset)."""
        self.clock.advance(seconds)

    # ------------------------------------------------------------------------------------------- data
    def reset(
        self, seed: int | None = None, bills: int | None = None, company: Company | None = None
    ) -> None:
        """Regenerate the data (OAuth clients and tokens survive; counters restart)."""
        if company is None:
            seed = self.state.company.seed if seed is None else seed
            company = generate_company(seed, bills if bills is not None else len(self.state.company.bills))
        self.state.load(company)
        self.limiter.plan_daily = self._plan_daily(company)
        self.limiter.reset_counters()

    def _emit_bill(self, event: str, bill: Bill) -> None:
        with self.state.lock:
            payload = {"bill": render.bill_detail(self.state, bill)}
        self.webhooks.emit(event, payload)

    def add_bill(self, data: dict[str, Any]) -> Bill:
        """Create a bill from a Zoho-shaped body; fires `bill.created`."""
        bill = self.state.add_bill(data)
        self._emit_bill("bill.created", bill)
        return bill

    def edit_bill(self, bill_id: str, changes: dict[str, Any]) -> Bill:
        """Edit a bill (bumps last_modified_time); fires `bill.edited`."""
        bill = self.state.edit_bill(bill_id, changes)
        self._emit_bill("bill.edited", bill)
        return bill

    def submit_bill(self, bill_id: str) -> Bill:
        """Submit a draft for approval; fires `bill.edited` ([INF] a status change is an edit to rules)."""
        bill = self.state.submit_bill(bill_id)
        self._emit_bill("bill.edited", bill)
        return bill

    def approve_bill(self, bill_id: str) -> Bill:
        """Approve a draft or pending bill (it becomes open); fires `bill.edited`."""
        bill = self.state.approve_bill(bill_id)
        self._emit_bill("bill.edited", bill)
        return bill

    def return_bill_to_draft(self, bill_id: str, status: str = "draft") -> Bill:
        """Send an approved, unpaid bill back to draft (or pending approval); fires `bill.edited`."""
        bill = self.state.return_to_draft(bill_id, status)
        self._emit_bill("bill.edited", bill)
        return bill

    def void_bill(self, bill_id: str) -> Bill:
        """Void a bill; fires `bill.voided`."""
        bill = self.state.void_bill(bill_id)
        self._emit_bill("bill.voided", bill)
        return bill

    def delete_bill(self, bill_id: str) -> None:
        """Delete a bill; fires `bill.deleted` with only the id."""
        self.state.delete_bill(bill_id)
        self.webhooks.emit("bill.deleted", {"bill": {"bill_id": bill_id}})

    def add_payment(self, data: dict[str, Any]) -> VendorPayment:
        """Record a payment {vendor_id?, bills:[{bill_id, amount_applied}]}; fires `vendorpayment.created`.

        No bill event fires, as in Zoho (zoho-ref §7).
        """
        payment = self.state.add_payment(data)
        with self.state.lock:
            payload = {"vendorpayment": render.payment_detail(self.state, payment)}
        self.webhooks.emit("vendorpayment.created", payload)
        return payment

    def delete_payment(self, payment_id: str) -> None:
        """Delete a vendor payment; fires `vendorpayment.deleted` with only the id (no bill event, as for a
        new payment: zoho-ref §7)."""
        self.state.delete_payment(payment_id)
        self.webhooks.emit("vendorpayment.deleted", {"vendorpayment": {"payment_id": payment_id}})

    # ------------------------------------------------------------------------------------------- knobs
    def set_faults(self, **changes: Any) -> FaultConfig:
        """fault_rate, kinds {kind: weight}, latency_ms, slow_ms, seed (the RNG restarts from the seed)."""
        return self.faults.configure(**changes)

    def set_limits(self, **changes: Any) -> RateLimits:
        """per_window, window_seconds, daily_limit, day_seconds, concurrency, enabled."""
        names = {f.name for f in dataclasses.fields(RateLimits)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown limit settings: {sorted(unknown)}")
        with self.limiter.lock:
            for name, value in changes.items():
                setattr(self.config.limits, name, value)
        return self.config.limits

    def configure_webhooks(self, url: str | None, secret: str = "", events: list[str] | None = None) -> None:
        """Send webhooks to `url` signed with `secret` (events: a subset of WEBHOOK_EVENTS; None = all)."""
        self.webhooks.configure(url, secret, events)

    def wait_webhooks(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait for queued webhooks to be attempted; return the delivery log."""
        self.webhooks.wait_idle(timeout)
        return self.webhooks.log()

    def requests_by_endpoint(self) -> Counter[str]:
        """API requests served so far per endpoint (`"GET /bills/{bill_id}"`); subtract two for a span."""
        return Counter(self.limiter.snapshot()["by_endpoint"])

    def counters(self) -> dict[str, Any]:
        """API requests by endpoint, 429s by code, statuses, OAuth outcomes, injected faults, webhooks."""
        return {
            "api": self.limiter.snapshot(),
            "oauth": dict(self.oauth_counts),
            "live_access_tokens": self.oauth.live_access_count(),
            "faults": self.faults.snapshot(),
            "webhooks": {
                "delivered": sum(d.outcome == "delivered" for d in self.webhooks.deliveries),
                "skipped": sum(d.outcome == "skipped" for d in self.webhooks.deliveries),
            },
        }


def create_zoho_sandbox(company: Company | None = None, config: SandboxConfig | None = None) -> ZohoSandbox:
    """Build (not start) a sandbox serving `company` (default: generated from config.seed/config.bills)."""
    return ZohoSandbox(company, config)
