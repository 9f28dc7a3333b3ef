"""The ASGI layer in front of the routes: counters, faults, bearer auth and rate limits.

Order per request: count -> fault (latency, hibernation page, 5xx, dropped connection) -> bearer check on
`/api/*` (401 envelope) -> rate-limit rules (429, or `X-RateLimit-*` headers on a matching rule) -> the
scheduled jobs that fell due (`on_request`) -> route. `/_admin/*` is never faulted, authenticated or limited.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import HIBERNATION_PAGE, FaultInjector
from .limits import RateLimiter
from .oauth import NOT_AUTHENTICATED, TokenService

_API_PATH = re.compile(r"^/api/now/(?:v\d+/)?(table|import)/([^/]+)")


def failure(
    status: int, message: str, detail: str | None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """ServiceNow's REST error envelope."""
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return JSONResponse(body, status_code=status, headers=headers)


class Counters:
    """Requests seen by path and status, and refused (429) requests."""

    def __init__(self) -> None:
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.rate_limited = 0

    def reset(self) -> None:
        """Zero everything."""
        self.by_path.clear()
        self.by_status.clear()
        self.rate_limited = 0

    def snapshot(self) -> dict[str, Any]:
        """Plain-JSON view."""
        return {
            "requests_by_path": dict(self.by_path),
            "responses_by_status": {str(k): v for k, v in self.by_status.items()},
            "rate_limited": self.rate_limited,
            "total": sum(self.by_path.values()),
        }


class Gateway:
    """Pure ASGI middleware (pure so it can drop a connection mid-response)."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenService,
        limiter: RateLimiter,
        faults: FaultInjector,
        counters: Counters,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter
        self.faults = faults
        self.counters = counters
        self.on_request = on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_admin"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        self.counters.by_path[path] += 1

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counters.by_status[message["status"]] += 1
            await send(message)

        delay = self.faults.latency()
        if delay > 0:
            await asyncio.sleep(delay)
        fault = self.faults.draw()
        if fault == "hibernate":
            await HTMLResponse(HIBERNATION_PAGE, status_code=200)(scope, receive, counting_send)
            return
        if fault == "drop":
            await counting_send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"result":[', "more_body": True})
            return  # the server closes the connection: the client sees a truncated response
        if fault in ("500", "502", "503"):
            status = int(fault)
            messages = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
            await failure(status, messages[status], "Injected fault")(scope, receive, counting_send)
            return
        if not path.startswith("/api/"):
            await self.app(scope, receive, counting_send)
            return

        user = self._authenticate(scope)
        if user is None:
            await JSONResponse(NOT_AUTHENTICATED, status_code=401)(scope, receive, counting_send)
            return
        scope.setdefault("state", {})["sn_user"] = user
        match = _API_PATH.match(path)
        api, table = (match.group(1), match.group(2)) if match else ("other", None)
        decision = self.limiter.check(user, api, table)
        if decision.refused:
            self.counters.rate_limited += 1
            response = failure(429, "Rate limit exceeded", decision.detail, headers=decision.headers)
            await response(scope, receive, counting_send)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers.items()]
        if self.on_request is not None:
            self.on_request()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await counting_send(message)

        await self.app(scope, receive, send_with_headers)

    def _authenticate(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                text = value.decode("latin-1")
                if text[:7].lower() == "bearer ":
                    return self.tokens.user_for(text[7:].strip())
        return None
