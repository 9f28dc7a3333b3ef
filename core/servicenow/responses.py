"""Read ServiceNow answers defensively: JSON objects or a clear error, never a parse crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from zbsn.core.servicenow.errors import (
    ServiceNowAPIError,
    ServiceNowProtocolError,
    ServiceNowRateLimited,
    ServiceNowServerError,
)

HIBERNATION_HINT = (
    "the instance answered an HTML page instead of JSON; a developer instance that is hibernating does this "
    "(wake it from the developer portal), as does a login or maintenance page in front of the instance"
)


def _looks_like_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type:
        return True
    head = response.content[:256].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<"))


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or ServiceNowProtocolError naming what came instead."""
    where = f"{response.request.method} {response.request.url.path}"
    if _looks_like_html(response):
        raise ServiceNowProtocolError(f"{where}: {HIBERNATION_HINT} (HTTP {response.status_code})")
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = response.content[:80].decode("utf-8", "replace")
        raise ServiceNowProtocolError(
            f"{where}: the answer is not JSON (HTTP {response.status_code}, starts {snippet!r})"
        ) from exc
    if not isinstance(body, dict):
        raise ServiceNowProtocolError(
            f"{where}: expected a JSON object, got {type(body).__name__} (HTTP {response.status_code})"
        )
    return body


def require_key(body: dict[str, Any], key: str, response: httpx.Response) -> Any:
    """`body[key]`, or ServiceNowProtocolError when the API left it out."""
    if key not in body:
        where = f"{response.request.method} {response.request.url.path}"
        raise ServiceNowProtocolError(f"{where}: the answer has no {key!r} (keys: {sorted(body)[:8]})")
    return body[key]


def result_list(body: dict[str, Any], where: str) -> list[Any]:
    """`body["result"]` when it is a list, else ServiceNowProtocolError naming `where`."""
    result = body.get("result")
    if not isinstance(result, list):
        raise ServiceNowProtocolError(f"{where}: the answer has no 'result' list (keys: {sorted(body)[:8]})")
    return result


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_fields(response: httpx.Response) -> tuple[str, str | None]:
    """ServiceNow's `{"error":{"message","detail"}}`, tolerating other shapes."""
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            detail = error.get("detail")
            return (str(message) if message else response.reason_phrase, str(detail) if detail else None)
        if isinstance(error, str):  # the token endpoint: {"error": "...", "error_description": "..."}
            description = body.get("error_description")
            return error, str(description) if description else None
    return response.reason_phrase or f"HTTP {response.status_code}", None


def raise_for_status(response: httpx.Response) -> None:
    """Turn a non-2xx answer into the matching error (the caller handles 401 before this)."""
    if response.is_success:
        return
    message, detail = _error_fields(response)
    url = str(response.request.url.copy_with(query=None))
    if response.status_code == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise ServiceNowRateLimited(429, message, detail, url=url, retry_after_s=retry_after)
    if response.status_code >= 500:
        if _looks_like_html(response):
            raise ServiceNowServerError(response.status_code, "HTML error page", HIBERNATION_HINT, url=url)
        raise ServiceNowServerError(response.status_code, message, detail, url=url)
    raise ServiceNowAPIError(response.status_code, message, detail, url=url)
