"""Every HTTP request to ServiceNow goes through here: auth, retries, rate limits, parsing, counting.

Retried (bounded):
- 429: wait the server's `Retry-After` (capped at `retry_after_cap_s`; `default_retry_after_s` when the
  header is missing), via the injected `sleep` so tests can see the wait without spending it;
- 5xx (500/502/503/504), timeouts and dropped connections: jittered exponential backoff via stamina.
Not retried: 4xx other than 429 (a 400/403/404 will not change on resend), 401 (the auth flow already minted a
fresh token and resent once; a second 401 means re-authorise), answers that are not JSON (a hibernating
instance answers 200 + HTML: resending only wastes the budget).

Resending is safe for reads, for the token grant, and for staging writes: the transform maps coalesce on the
row's external key (e.g. `u_external_invoice_number`), so a resent staging row updates or is ignored
(`updated`/`ignored`), never duplicates the target record. A POST whose answer was lost is therefore retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina

from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.errors import ServiceNowRateLimited, ServiceNowServerError
from zbsn.core.servicenow.responses import json_object, raise_for_status

Sleep = Callable[[float], Awaitable[None]]
RETRIED_SERVER_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds of the retry loops (see the module docstring for what is retried)."""

    # per request, for 5xx / timeouts / dropped connections: 10 keeps a run alive when 30 % of calls fail
    # (5 gave up on about one request in 400 there, failing the run)
    attempts: int = 10
    timeout_s: float = 60.0  # total time stamina may spend on one request's transient retries
    wait_initial_s: float = 0.2
    wait_max_s: float = 5.0
    wait_jitter_s: float = 0.5
    rate_limit_retries: int = 5  # how many 429s one request may wait out
    retry_after_cap_s: float = 60.0  # never wait longer than this for one Retry-After
    default_retry_after_s: float = 1.0  # a 429 without Retry-After [I]: ServiceNow documents the header


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, ServiceNowServerError):
        return exc.status_code in RETRIED_SERVER_STATUSES
    return isinstance(exc, httpx.TransportError)  # connect/read/write errors, timeouts, dropped connections


@dataclass
class Requester:
    """Sends JSON requests with the auth flow, retry policy and a count of every request on the wire."""

    instance_url: str
    auth: ServiceNowAuth
    http: httpx.AsyncClient
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = asyncio.sleep
    request_count: int = 0
    rate_limit_waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.instance_url = self.instance_url.rstrip("/")
        self.http.event_hooks.setdefault("request", []).append(self._count)

    async def _count(self, _request: httpx.Request) -> None:
        # Runs for every request httpx sends, including the token requests the auth flow yields.
        self.request_count += 1

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """Send one logical request (retrying as the policy allows) and return the response and its JSON.

        `content` sends raw bytes instead of JSON (the Attachment API), typed by `content_type`."""
        waits = 0
        while True:
            try:
                return await self._send_with_backoff(method, path, params, json, content, content_type)
            except ServiceNowRateLimited as exc:
                waits += 1
                if waits > self.policy.rate_limit_retries:
                    raise
                requested = exc.retry_after_s
                wait = self.policy.default_retry_after_s if requested is None else requested
                wait = min(wait, self.policy.retry_after_cap_s)
                self.rate_limit_waits.append(wait)
                await self.sleep(wait)

    async def _send_with_backoff(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Any,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        policy = self.policy
        async for attempt in stamina.retry_context(
            on=_is_transient,
            attempts=policy.attempts,
            timeout=policy.timeout_s,
            wait_initial=policy.wait_initial_s,
            wait_max=policy.wait_max_s,
            wait_jitter=policy.wait_jitter_s,
        ):
            with attempt:
                response = await self.http.request(
                    method,
                    f"{self.instance_url}{path}",
                    params=params,
                    json=json,
                    content=content,
                    headers=_headers(content_type),
                    auth=self.auth,
                )
                raise_for_status(response)
                return response, json_object(response)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


def _headers(content_type: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers
