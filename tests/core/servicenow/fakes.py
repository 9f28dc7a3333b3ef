"""A scriptable fake ServiceNow for unit tests over `httpx.MockTransport` (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from zbsn.core.clock import OffsetClock
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.tokens import MemoryTokenStore

INSTANCE = "https://acme.service-now.test"
NO_WAIT = RetryPolicy(attempts=4, wait_initial_s=0, wait_max_s=0, wait_jitter_s=0)

Handler = Callable[[httpx.Request], httpx.Response]


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    """A JSON answer."""
    return httpx.Response(status, json=body, headers=headers)


def sn_error(status: int, message: str, detail: str | None = None, **headers: str) -> httpx.Response:
    """ServiceNow's error envelope."""
    return ok({"error": {"message": message, "detail": detail}, "status": "failure"}, status, **headers)


@dataclass
class FakeInstance:
    """Routes requests: the token endpoint is built in, everything else goes to `api`."""

    api: Handler = field(default=lambda request: ok({"result": []}))
    token_answers: list[httpx.Response] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0
    expires_in: int = 1799

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth_token.do":
            if self.token_answers:
                return self.token_answers.pop(0)
            self.tokens_issued += 1
            return ok(
                {
                    "access_token": f"tok-{self.tokens_issued}",
                    "scope": "useraccount",
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                }
            )
        return self.api(request)

    def api_requests(self) -> list[httpx.Request]:
        """Requests other than token requests."""
        return [r for r in self.requests if r.url.path != "/oauth_token.do"]


def body_of(request: httpx.Request) -> Any:
    """The JSON body of a recorded request."""
    return json.loads(request.content)


def make_client(
    fake: FakeInstance,
    *,
    clock: OffsetClock | None = None,
    store: MemoryTokenStore | None = None,
    sleeps: list[float] | None = None,
    **options: Any,
) -> ServiceNowClient:
    """A client on a MockTransport; sleeps are recorded into `sleeps` and not spent."""
    clock = clock or OffsetClock()
    auth = ServiceNowAuth(INSTANCE, "cid", "secret", store or MemoryTokenStore(), clock)
    recorded = sleeps if sleeps is not None else []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)
        clock.advance(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    options.setdefault("retry", NO_WAIT)
    return ServiceNowClient(INSTANCE, auth, http=http, sleep=fake_sleep, clock=clock, **options)
