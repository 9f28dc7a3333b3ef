"""Batch API `POST /api/now/v1/batch` (sn-ref §5, SNDocs batch-api.md [C]).

Request `{"batch_request_id", "rest_requests": [{"id", "method", "url", "headers": [{name, value}], "body"
(base64), "exclude_response_headers"}]}`; answer `{"batch_request_id", "serviced_requests": [{"id",
"status_code", "status_text", "headers", "body" (base64), "execution_time"}], "unserviced_requests": []}`.
Items run sequentially, as the requesting user, through the same routes as direct requests (ACLs apply per
item). Only `/api/now/...` URLs are served; a nested batch is refused. The sandbox counts, faults and
rate-limits the batch request once, not its items [I].
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message

from .gateway import failure


class BatchApi:
    """Serves batch requests by dispatching each item to the instance's own routes."""

    def __init__(self, routes: Callable[[], ASGIApp], enabled: Callable[[], bool] = lambda: True) -> None:
        self._routes = routes  # the Starlette app, known once it is built
        self._enabled = enabled

    async def handle(self, request: Request) -> Response:
        """POST /api/now/v1/batch."""
        if not self._enabled():
            return failure(400, "Requested URI does not represent any resource", request.url.path)
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        items = body.get("rest_requests") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return failure(400, "Invalid request", 'Expected {"batch_request_id", "rest_requests": [...]}')
        serviced = [await self._serve(request, item) for item in items]
        return JSONResponse(
            {
                "batch_request_id": body.get("batch_request_id", ""),
                "serviced_requests": serviced,
                "unserviced_requests": [],
            }
        )

    async def _serve(self, outer: Request, item: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        method = str(item.get("method", "GET")).upper()
        url = urlsplit(str(item.get("url", "")))
        headers = [
            (str(h.get("name", "")).lower().encode("latin-1"), str(h.get("value", "")).encode("latin-1"))
            for h in item.get("headers", []) or []
            if isinstance(h, dict)
        ]
        try:
            payload = base64.b64decode(item.get("body") or b"", validate=True)
        except (binascii.Error, ValueError):
            payload = None
        if payload is None or not url.path.startswith("/api/now/") or url.path.rstrip("/").endswith("/batch"):
            response_headers: list[tuple[str, str]] = []
            status, content = 400, b'{"error":{"message":"Invalid batch item"}}'
        else:
            status, response_headers, content = await self._dispatch(outer, method, url, headers, payload)
        answer: dict[str, Any] = {
            "id": item.get("id", ""),
            "status_code": status,
            "status_text": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "",
            "body": base64.b64encode(content).decode("ascii"),
            "execution_time": round((time.perf_counter() - started) * 1000),
        }
        if not item.get("exclude_response_headers"):
            answer["headers"] = [{"name": k, "value": v} for k, v in response_headers]
        return answer

    async def _dispatch(
        self, outer: Request, method: str, url: Any, headers: list[tuple[bytes, bytes]], payload: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "scheme": outer.url.scheme,
            "server": outer.scope.get("server"),
            "client": outer.scope.get("client"),
            "root_path": "",
            "path": url.path,
            "raw_path": url.path.encode(),
            "query_string": url.query.encode(),
            "headers": [*headers, (b"host", outer.headers.get("host", "").encode("latin-1"))],
            "state": {"sn_user": outer.state.sn_user},
        }
        sent = False
        status = 500
        response_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers.extend(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._routes()(scope, receive, send)
        return status, response_headers, b"".join(chunks)
