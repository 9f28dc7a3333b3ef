"""An in-memory fake of Zoho's accounts server and Books API for `httpx.MockTransport` unit tests."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

ACCOUNTS = "https://accounts.zoho.eu"
API = "https://www.zohoapis.eu"
ORG = "20000001"


def bill(n: int, **overrides: Any) -> dict[str, Any]:
    """A bills-list row as Zoho sends it."""
    row = {
        "bill_id": f"9000{n:06d}",
        "bill_number": f"BILL-{n:04d}",
        "vendor_id": "8000000001",
        "vendor_name": "Acme",
        "status": "open",
        "date": "2026-06-09",
        "due_date": "2026-07-09",
        "currency_code": "EUR",
        "exchange_rate": 1,
        "total": 100 + n,
        "balance": 100 + n,
        "created_time": "2026-06-09T09:47:08+0200",
        "last_modified_time": "2026-06-09T13:17:42+0200",
    }
    row.update(overrides)
    return row


@dataclass
class FakeZoho:
    """Mints tokens, checks them on API calls and serves pages of bills; every call is recorded."""

    bills: list[dict[str, Any]] = field(default_factory=lambda: [bill(n) for n in range(1, 6)])
    per_page_cap: int = 200
    token_errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # next token answers
    api_script: list[httpx.Response] = field(default_factory=list)  # next API answers, before normal ones
    page_override: Callable[[int, list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    refresh_delay_s: float = 0.0
    refreshes: int = 0
    codes_exchanged: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    api_requests: list[httpx.Request] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def mint(self) -> str:
        token = f"1000.access{next(self._counter)}"
        self.valid_tokens.add(token)
        return token

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth/v2/token"):
            return await self._token(request)
        return self._api(request)

    async def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if self.token_errors:
            status, body = self.token_errors.pop(0)
            return httpx.Response(status, json=body)
        if request.url.path.endswith("/revoke"):
            return httpx.Response(200, json={"status": "success"})
        if form.get("grant_type") == "refresh_token":
            if self.refresh_delay_s:
                await asyncio.sleep(self.refresh_delay_s)
            self.refreshes += 1
            return httpx.Response(
                200,
                json={
                    "access_token": self.mint(),
                    "api_domain": API,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                },
            )
        self.codes_exchanged += 1
        return httpx.Response(
            200,
            json={
                "access_token": self.mint(),
                "refresh_token": "1000.refresh",
                "api_domain": API,
                "token_type": "Bearer",
                "expires_in": 3600,
            },
        )

    def _api(self, request: httpx.Request) -> httpx.Response:
        self.api_requests.append(request)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Zoho-oauthtoken ")
        if token not in self.valid_tokens:
            return httpx.Response(
                401, json={"code": 57, "message": "You are not authorized to perform this operation"}
            )
        if self.api_script:
            return self.api_script.pop(0)
        path = request.url.path.removeprefix("/books/v3")
        params = request.url.params
        if path == "/bills":
            page, per_page = (
                int(params.get("page", 1)),
                min(int(params.get("per_page", 200)), self.per_page_cap),
            )
            rows = self.bills[(page - 1) * per_page : page * per_page]
            if self.page_override is not None:
                rows = self.page_override(page, rows)
            more = page * per_page < len(self.bills)
            return ok(
                {"bills": rows, "page_context": {"page": page, "per_page": per_page, "has_more_page": more}}
            )
        if path.startswith("/bills/"):
            bill_id = path.rsplit("/", 1)[1]
            found = next((b for b in self.bills if b["bill_id"] == bill_id), None)
            if found is None:
                return httpx.Response(404, json={"code": 1002, "message": "Bill does not exist."})
            return ok({"bill": {**found, "line_items": []}})
        return httpx.Response(404, json={"code": 5, "message": "Invalid URL Passed"})


def ok(payload: dict[str, Any], **headers: str) -> httpx.Response:
    """A success envelope."""
    return httpx.Response(200, json={"code": 0, "message": "success", **payload}, headers=headers)


def error(status: int, code: int, message: str = "error", **headers: str) -> httpx.Response:
    """An error envelope."""
    return httpx.Response(status, content=json.dumps({"code": code, "message": message}), headers=headers)
